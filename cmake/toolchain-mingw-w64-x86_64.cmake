# CMake toolchain: cross-compile for 64-bit Windows with mingw-w64.
#
#   cmake -S . -B build/kernel -G Ninja \
#         -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-mingw-w64-x86_64.cmake \
#         -DWDKM_KERNEL=ON
#
# The default compiler is x86_64-w64-mingw32-gcc. To use clang instead, pass
# -DCMAKE_C_COMPILER=clang (any path or name containing "clang"): this file
# then sets CMAKE_C_COMPILER_TARGET so that CMake adds
# --target=x86_64-w64-mingw32, and clang finds the same mingw-w64 headers and
# import libraries. If the clang in use has no mingw linker configured, add
# -DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=lld -DCMAKE_MODULE_LINKER_FLAGS=-fuse-ld=lld.
#
# WDKM_MINGW_TRIPLE (cache) selects another mingw-w64 triple prefix.

set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR AMD64)
set(CMAKE_SYSTEM_VERSION 10.0)

set(WDKM_MINGW_TRIPLE "x86_64-w64-mingw32" CACHE STRING "mingw-w64 target triple")

# CMAKE_C_COMPILER given on the command line wins over the default.
if(NOT CMAKE_C_COMPILER)
  set(CMAKE_C_COMPILER "${WDKM_MINGW_TRIPLE}-gcc")
endif()
if(CMAKE_C_COMPILER MATCHES "clang")
  set(CMAKE_C_COMPILER_TARGET "${WDKM_MINGW_TRIPLE}")
endif()

# Resource compiler (for version resources); optional.
find_program(WDKM_MINGW_WINDRES NAMES "${WDKM_MINGW_TRIPLE}-windres" llvm-windres)
if(WDKM_MINGW_WINDRES AND NOT CMAKE_RC_COMPILER)
  set(CMAKE_RC_COMPILER "${WDKM_MINGW_WINDRES}")
endif()

# Look for headers and libraries only in the target environment, for programs
# only on the build machine.
set(CMAKE_FIND_ROOT_PATH "/usr/${WDKM_MINGW_TRIPLE}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# try_compile() checks build static libraries: they must not need a linker
# setup that kernel-mode flags could disturb.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
