# Kernel-mode build support: Windows drivers (.sys) and the user-mode programs
# that drive them, cross-compiled with mingw-w64 (see
# cmake/toolchain-mingw-w64-x86_64.cmake).
#
# Included by the top-level CMakeLists.txt when WDKM_KERNEL=ON, and by the
# installed package's wdkmutexConfig.cmake (a driver project's
# find_package(wdkmutex) gets the same functions). Defines:
#
#   wdkm_kernel_target(<target>)
#       Kernel-mode compile settings for a static library or a driver: the
#       mingw-w64 DDK headers (<ntddk.h>, <wdm.h>), C11, freestanding, no
#       stack protector, no red zone, -Wall -Wextra -Werror, and the defines
#       the DDK headers expect for a Windows 10 x64 driver. Settings are
#       PRIVATE: apply the function to every kernel-mode target.
#
#   wdkm_add_driver(<name> SOURCES <src>... [LIBRARIES <lib>...])
#       Builds <name>.sys: a PE image, subsystem native, entry DriverEntry,
#       no C runtime, importing only from ntoskrnl.exe and hal.dll. After
#       each link, the image's imports are checked (see "Import check").
#
#   wdkm_add_wine_test(<name> RUNNER <exe> [DRIVERS <driver>...] [ARGS ...])
#       A CTest test running the program under Wine with the drivers beside
#       it (testing a Windows driver on Linux CI; docs/packaging.md).
#
#   wdkm_add_usermode_exe(<name> SOURCES <src>... [LIBRARIES <lib>...])
#       An ordinary console program (C11, -Wall -Wextra -Werror, UNICODE),
#       linked with kernel32, advapi32 (the SCM API) and wdkm_support, the
#       helper library in support/ (service install/start/stop, device I/O).
#
# Cache variables:
#   WDKM_DDK_INCLUDE_DIR   directory holding ntddk.h (found from the compiler)
#   WDKM_NTDDI_VERSION     NTDDI_VERSION for kernel code (Windows 10 default)
#   WDKM_CHECK_WINE_IMPORTS  fail the link of a driver that imports a function
#                          Wine's ntoskrnl.exe / hal.dll do not export (such a
#                          driver does not load under Wine at all) or export
#                          only as a stub (calling it aborts the driver host)
#   WDKM_WINE_DLL_DIR      Wine's x86_64-windows directory (for that check)
#
# Import check: this file doubles as a script. `cmake -P WdkmDriver.cmake`
# with -DWDKM_IMAGE=<sys> -DWDKM_OBJDUMP=<objdump> [-DWDKM_NM=<nm>]
# [-DWDKM_WINE_DLL_DIR=<dir>] lists the image's imports, fails if any comes
# from a module other than ntoskrnl.exe or hal.dll (a CRT or user-mode DLL
# slipped in) and, when a Wine directory is given, if Wine does not export
# one of them (the driver would not load) or exports it as a stub (calling
# it aborts winedevice.exe, e.g. KeReadStateMutex, ExInitializeRundownProtection).

# ---------------------------------------------------------------------------
# Script mode: the import check run after each driver link.
# ---------------------------------------------------------------------------
if(CMAKE_SCRIPT_MODE_FILE)
  cmake_policy(VERSION 3.20)

  # Runs objdump -p on a PE file; sets <out_var> to its output lines.
  function(_wdkm_objdump_lines file out_var)
    execute_process(COMMAND "${WDKM_OBJDUMP}" -p "${file}"
                    OUTPUT_VARIABLE text ERROR_VARIABLE err RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "wdkm import check: '${WDKM_OBJDUMP} -p ${file}' failed: ${err}")
    endif()
    string(REPLACE ";" "\\;" text "${text}")
    string(REPLACE "\n" ";" lines "${text}")
    set(${out_var} "${lines}" PARENT_SCOPE)
  endfunction()

  # Sets <out_var> to the names exported by a PE file (GNU objdump format).
  function(_wdkm_exports file out_var)
    _wdkm_objdump_lines("${file}" lines)
    set(names "")
    set(in_table FALSE)
    foreach(line IN LISTS lines)
      if(line MATCHES "^\\[Ordinal/Name Pointer\\] Table")
        set(in_table TRUE)
      elseif(in_table AND line MATCHES "^[ \t]*\\[ *[0-9]+\\] ([A-Za-z0-9_@?$]+)")
        list(APPEND names "${CMAKE_MATCH_1}")
      elseif(in_table AND NOT line MATCHES "^[ \t]*$")
        set(in_table FALSE)
      endif()
    endforeach()
    set(${out_var} "${names}" PARENT_SCOPE)
  endfunction()

  # Sets <out_var> to the exports a Wine DLL implements as stubs: Wine keeps
  # its symbol table, where each stub is a function __wine_stub_<name>.
  function(_wdkm_wine_stubs file out_var)
    set(names "")
    if(WDKM_NM)
      execute_process(COMMAND "${WDKM_NM}" "${file}"
                      OUTPUT_VARIABLE text ERROR_QUIET RESULT_VARIABLE rc)
      if(rc EQUAL 0)
        string(REGEX MATCHALL "__wine_stub_[A-Za-z0-9_@?$]+" stubs "${text}")
        foreach(stub IN LISTS stubs)
          string(REGEX REPLACE "^__wine_stub_" "" name "${stub}")
          list(APPEND names "${name}")
        endforeach()
      endif()
    endif()
    set(${out_var} "${names}" PARENT_SCOPE)
  endfunction()

  if(NOT WDKM_IMAGE OR NOT EXISTS "${WDKM_IMAGE}")
    message(FATAL_ERROR "wdkm import check: WDKM_IMAGE='${WDKM_IMAGE}' does not exist")
  endif()
  get_filename_component(image_name "${WDKM_IMAGE}" NAME)

  # Imports: "DLL Name: x" starts a module, then "\t<hint-rva>\t <hint>  <name>".
  _wdkm_objdump_lines("${WDKM_IMAGE}" lines)
  set(module "")
  set(bad_modules "")
  set(imports_ntoskrnl "")
  set(imports_hal "")
  foreach(line IN LISTS lines)
    if(line MATCHES "^[ \t]*DLL Name: (.+)$")
      string(STRIP "${CMAKE_MATCH_1}" module)
      string(TOLOWER "${module}" module)
      if(NOT module STREQUAL "ntoskrnl.exe" AND NOT module STREQUAL "hal.dll")
        list(APPEND bad_modules "${module}")
      endif()
    elseif(module AND line MATCHES "^\t[0-9a-fA-F]+\t +[0-9]+ +([A-Za-z0-9_@?$]+)")
      if(module STREQUAL "ntoskrnl.exe")
        list(APPEND imports_ntoskrnl "${CMAKE_MATCH_1}")
      elseif(module STREQUAL "hal.dll")
        list(APPEND imports_hal "${CMAKE_MATCH_1}")
      endif()
    elseif(line MATCHES "^[ \t]*$")
      # A blank line ends a module's list only when a new "DLL Name" follows.
    elseif(NOT line MATCHES "^\t")
      set(module "")
    endif()
  endforeach()
  if(bad_modules)
    list(REMOVE_DUPLICATES bad_modules)
    message(FATAL_ERROR
      "${image_name} imports from ${bad_modules}: a kernel driver may import only "
      "from ntoskrnl.exe and hal.dll (is a C runtime function or a user-mode API in use?)")
  endif()

  if(WDKM_WINE_DLL_DIR)
    set(missing "")
    foreach(pair "ntoskrnl.exe;imports_ntoskrnl" "hal.dll;imports_hal")
      list(GET pair 0 dll)
      list(GET pair 1 var)
      if(NOT ${var})
        continue()
      endif()
      if(NOT EXISTS "${WDKM_WINE_DLL_DIR}/${dll}")
        message(FATAL_ERROR "wdkm import check: ${WDKM_WINE_DLL_DIR}/${dll} not found")
      endif()
      _wdkm_exports("${WDKM_WINE_DLL_DIR}/${dll}" exported)
      _wdkm_wine_stubs("${WDKM_WINE_DLL_DIR}/${dll}" stubbed)
      foreach(fn IN LISTS ${var})
        if(NOT fn IN_LIST exported)
          list(APPEND missing "${dll}!${fn} (not exported: the driver does not load)")
        elseif(fn IN_LIST stubbed)
          list(APPEND missing "${dll}!${fn} (a stub: calling it aborts the driver's process)")
        endif()
      endforeach()
    endforeach()
    if(missing)
      string(REPLACE ";" "\n  " missing_text "${missing}")
      message(FATAL_ERROR
        "${image_name} imports functions that Wine's kernel does not implement:\n"
        "  ${missing_text}\n"
        "Resolve optional or newer kernel functions at run time with "
        "MmGetSystemRoutineAddress (with a fallback), avoid the stubbed ones, or "
        "configure with -DWDKM_CHECK_WINE_IMPORTS=OFF for a driver not meant for Wine.")
    endif()
  endif()
  return()
endif()

# ---------------------------------------------------------------------------
# Configure mode.
# ---------------------------------------------------------------------------
include_guard(GLOBAL)

if(NOT WIN32)
  message(FATAL_ERROR
    "WDKM_KERNEL=ON builds Windows drivers: configure with "
    "-DCMAKE_TOOLCHAIN_FILE=${CMAKE_CURRENT_LIST_DIR}/toolchain-mingw-w64-x86_64.cmake")
endif()
if(NOT CMAKE_C_COMPILER_ID MATCHES "^(GNU|Clang)$")
  message(FATAL_ERROR "WdkmDriver.cmake supports mingw-w64 gcc or clang, not ${CMAKE_C_COMPILER_ID}")
endif()

set(WDKM_DRIVER_CMAKE "${CMAKE_CURRENT_LIST_FILE}")
# In the source tree this file sits in cmake/ beside support/; installed, it
# sits in the package directory, next to the wine runner and the exported
# wdkmutex::wdkm_support (wdkmutexConfig.cmake sets WDKM_PACKAGE_DIR).
if(WDKM_PACKAGE_DIR)
  set(WDKM_WINE_RUN "${WDKM_PACKAGE_DIR}/wdkm-wine-run.sh")
else()
  get_filename_component(WDKM_SOURCE_ROOT "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
  set(WDKM_WINE_RUN "${WDKM_SOURCE_ROOT}/scripts/wine-run.sh")
endif()

# CMake's Windows platform adds -lkernel32 -luser32 ... to every link line.
# A driver must not see them (with -nostdlib they would still be linked), and
# the compiler driver already adds them to user-mode programs. Cleared for this
# directory and every directory added after this include.
set(CMAKE_C_STANDARD_LIBRARIES "")

# --- DDK headers ------------------------------------------------------------
set(_wdkm_ddk_hints "")
foreach(_dir IN LISTS CMAKE_C_IMPLICIT_INCLUDE_DIRECTORIES)
  list(APPEND _wdkm_ddk_hints "${_dir}/ddk")
endforeach()
find_path(WDKM_DDK_INCLUDE_DIR
  NAMES ntddk.h
  HINTS ${_wdkm_ddk_hints}
  PATHS "/usr/${WDKM_MINGW_TRIPLE}/include/ddk" "/usr/x86_64-w64-mingw32/include/ddk"
  DOC "Directory holding the kernel-mode headers ntddk.h and wdm.h"
  NO_DEFAULT_PATH NO_CMAKE_FIND_ROOT_PATH)
if(NOT WDKM_DDK_INCLUDE_DIR)
  message(FATAL_ERROR "ntddk.h not found; set WDKM_DDK_INCLUDE_DIR to mingw-w64's include/ddk")
endif()

set(WDKM_NTDDI_VERSION "0x0A000000" CACHE STRING "NTDDI_VERSION for kernel-mode code (0x0A000000 = Windows 10)")

# --- Compiler runtime helpers (___chkstk_ms for frames over 4 KiB, ...) ----
# libgcc's helpers need nothing from a C runtime. Found through the compiler
# so that the same code works for gcc and clang (compiler-rt builtins).
if(NOT DEFINED WDKM_KERNEL_RUNTIME_LIBRARY)
  set(_wdkm_rt_cmd "${CMAKE_C_COMPILER}")
  if(CMAKE_C_COMPILER_TARGET AND CMAKE_C_COMPILER_ID STREQUAL "Clang")
    list(APPEND _wdkm_rt_cmd "--target=${CMAKE_C_COMPILER_TARGET}")
  endif()
  execute_process(COMMAND ${_wdkm_rt_cmd} -print-libgcc-file-name
                  OUTPUT_VARIABLE _wdkm_rt OUTPUT_STRIP_TRAILING_WHITESPACE
                  ERROR_QUIET RESULT_VARIABLE _wdkm_rt_rc)
  if(NOT (_wdkm_rt_rc EQUAL 0 AND IS_ABSOLUTE "${_wdkm_rt}" AND EXISTS "${_wdkm_rt}"))
    # A clang without compiler-rt for this target: borrow mingw-w64 gcc's libgcc.
    find_program(WDKM_MINGW_GCC NAMES "${WDKM_MINGW_TRIPLE}-gcc" x86_64-w64-mingw32-gcc)
    if(WDKM_MINGW_GCC)
      execute_process(COMMAND "${WDKM_MINGW_GCC}" -print-libgcc-file-name
                      OUTPUT_VARIABLE _wdkm_rt OUTPUT_STRIP_TRAILING_WHITESPACE
                      ERROR_QUIET RESULT_VARIABLE _wdkm_rt_rc)
    endif()
  endif()
  if(_wdkm_rt_rc EQUAL 0 AND IS_ABSOLUTE "${_wdkm_rt}" AND EXISTS "${_wdkm_rt}")
    set(_wdkm_rt_default "${_wdkm_rt}")
  elseif(CMAKE_C_COMPILER_ID STREQUAL "GNU")
    set(_wdkm_rt_default "gcc")
  else()
    set(_wdkm_rt_default "")
  endif()
  set(WDKM_KERNEL_RUNTIME_LIBRARY "${_wdkm_rt_default}" CACHE STRING
      "Compiler helper library linked last into drivers (libgcc.a or compiler-rt builtins)")
endif()

# --- Wine export check -------------------------------------------------------
find_path(WDKM_WINE_DLL_DIR
  NAMES ntoskrnl.exe
  PATHS /usr/lib/x86_64-linux-gnu/wine/x86_64-windows
        /usr/lib/wine/x86_64-windows
        /usr/lib64/wine/x86_64-windows
        /usr/local/lib/wine/x86_64-windows
        /opt/wine-stable/lib/wine/x86_64-windows
        /opt/wine-stable/lib64/wine/x86_64-windows
  DOC "Wine's x86_64-windows DLL directory (ntoskrnl.exe, hal.dll)"
  NO_DEFAULT_PATH NO_CMAKE_FIND_ROOT_PATH)
if(WDKM_WINE_DLL_DIR)
  set(_wdkm_wine_check_default ON)
else()
  set(_wdkm_wine_check_default OFF)
endif()
option(WDKM_CHECK_WINE_IMPORTS "Fail a driver's link if it imports what Wine does not implement" ${_wdkm_wine_check_default})

# ---------------------------------------------------------------------------
# wdkm_kernel_target(<target>)
# ---------------------------------------------------------------------------
function(wdkm_kernel_target target)
  if(NOT TARGET ${target})
    message(FATAL_ERROR "wdkm_kernel_target: no target named '${target}'")
  endif()
  set_target_properties(${target} PROPERTIES
    C_STANDARD 11
    C_STANDARD_REQUIRED ON
    C_EXTENSIONS OFF)
  # SYSTEM: the DDK headers themselves are not held to -Wextra.
  target_include_directories(${target} SYSTEM PRIVATE "${WDKM_DDK_INCLUDE_DIR}")
  target_compile_definitions(${target} PRIVATE
    _AMD64_
    _KERNEL_MODE=1
    NTDDI_VERSION=${WDKM_NTDDI_VERSION}
    _WIN32_WINNT=0x0A00
    WINVER=0x0A00
    # Any printf-family call must bind to ntoskrnl's exports, never to
    # mingw-w64's own stdio in libmingwex (which is not linked).
    __USE_MINGW_ANSI_STDIO=0)
  if(CMAKE_C_COMPILER_ID STREQUAL "Clang")
    # mingw-w64's wdm.h defines InterlockedBitTestAndSet/Reset as static
    # inline after <intrin.h> has defined them extern gnu_inline: gcc takes
    # the second definition, clang emits a global copy in every object
    # (multiple definitions at link). Keep only wdm.h's.
    target_compile_definitions(${target} PRIVATE
      __INTRINSIC_DEFINED_InterlockedBitTestAndSet
      __INTRINSIC_DEFINED_InterlockedBitTestAndReset)
  endif()
  target_compile_options(${target} PRIVATE
    -ffreestanding            # no hosted C library; implies -fno-builtin
    -fno-stack-protector      # no __stack_chk_* runtime in the kernel
    -mno-red-zone             # interrupts may use the stack below rsp
    -fno-strict-aliasing      # NT code type-puns (CONTAINING_RECORD, ...) as MSVC allows
    -fno-common
    -Wall -Wextra -Werror
    -Wno-multichar)           # pool tags are written 'Tag1', as in every WDK sample
endfunction()

# ---------------------------------------------------------------------------
# wdkm_add_driver(<name> SOURCES ... [LIBRARIES ...])
# ---------------------------------------------------------------------------
function(wdkm_add_driver name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "" "SOURCES;LIBRARIES")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "wdkm_add_driver(${name}): unexpected arguments: ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "wdkm_add_driver(${name}): SOURCES is required")
  endif()

  # MODULE: a loadable image nobody links against (no import library).
  add_library(${name} MODULE ${ARG_SOURCES})
  set_target_properties(${name} PROPERTIES PREFIX "" SUFFIX ".sys")
  wdkm_kernel_target(${name})

  target_link_options(${name} PRIVATE
    -nostdlib -nostartfiles -shared
    "LINKER:--subsystem,native"
    "LINKER:--entry,DriverEntry"
    # The x64 driver defaults of the Microsoft linker; Wine relocates the
    # image anyway (it is loaded into winedevice.exe), so relocations must
    # be present: --dynamicbase keeps .reloc.
    "LINKER:--image-base,0x140000000"
    "LINKER:--file-alignment,0x200"
    "LINKER:--section-alignment,0x1000"
    "LINKER:--dynamicbase"
    "LINKER:--nxcompat"
    # Export nothing (mingw ld would otherwise export every function).
    "LINKER:--exclude-all-symbols"
    # Data imports (PsThreadType, ...) must come through __declspec(dllimport)
    # as the DDK headers declare them; auto-import would need the CRT's
    # pseudo-relocation runtime, which a driver does not have.
    "LINKER:--disable-auto-import"
    "LINKER:--disable-runtime-pseudo-reloc")

  # From the installed package, every driver links the library: an unused
  # library costs nothing (only the objects the driver reaches are linked).
  if(WDKM_PACKAGE_DIR AND TARGET wdkmutex::wdkmutex)
    list(APPEND ARG_LIBRARIES wdkmutex::wdkmutex)
  endif()
  target_link_libraries(${name} PRIVATE ${ARG_LIBRARIES} ntoskrnl hal ${WDKM_KERNEL_RUNTIME_LIBRARY})

  # Import check after each link (see the top of this file).
  if(CMAKE_OBJDUMP)
    set(_wine_arg "")
    if(WDKM_CHECK_WINE_IMPORTS AND WDKM_WINE_DLL_DIR)
      set(_wine_arg "-DWDKM_WINE_DLL_DIR=${WDKM_WINE_DLL_DIR}")
    endif()
    add_custom_command(TARGET ${name} POST_BUILD
      COMMAND "${CMAKE_COMMAND}"
              "-DWDKM_IMAGE=$<TARGET_FILE:${name}>"
              "-DWDKM_OBJDUMP=${CMAKE_OBJDUMP}"
              "-DWDKM_NM=${CMAKE_NM}"
              ${_wine_arg}
              -P "${WDKM_DRIVER_CMAKE}"
      COMMENT "Checking the imports of ${name}.sys"
      VERBATIM)
  else()
    message(WARNING "wdkm_add_driver(${name}): no objdump found; the driver's imports are not checked")
  endif()
endfunction()

# ---------------------------------------------------------------------------
# User-mode programs.
# ---------------------------------------------------------------------------
function(_wdkm_usermode_settings target)
  set_target_properties(${target} PROPERTIES
    C_STANDARD 11
    C_STANDARD_REQUIRED ON
    C_EXTENSIONS OFF)
  target_compile_definitions(${target} PRIVATE
    UNICODE _UNICODE
    _WIN32_WINNT=0x0A00 WINVER=0x0A00)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror)
endfunction()

function(wdkm_add_usermode_exe name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "" "SOURCES;LIBRARIES")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "wdkm_add_usermode_exe(${name}): unexpected arguments: ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "wdkm_add_usermode_exe(${name}): SOURCES is required")
  endif()
  add_executable(${name} ${ARG_SOURCES})
  _wdkm_usermode_settings(${name})
  # Static libgcc: the program needs no mingw DLL beside it under Wine.
  target_link_options(${name} PRIVATE -static-libgcc)
  target_link_libraries(${name} PRIVATE ${ARG_LIBRARIES} wdkm_support advapi32 kernel32)
endfunction()

# ---------------------------------------------------------------------------
# wdkm_add_wine_test(<name> RUNNER <exe target> [DRIVERS <driver>...]
#                    [ARGS <arg>...] [TIMEOUT <seconds>])
# ---------------------------------------------------------------------------
# A CTest test that runs RUNNER (a wdkm_add_usermode_exe program, which
# installs, starts, drives and stops the driver through wdkm_support) under
# Wine, in a private prefix in the test's own build folder, with each
# driver's .sys copied beside it first. The test passes when the program
# exits 0; its output is the test's output, Wine's log is
# <build>/wdkm-wine/<name>/wine-debug.log. Needs wine (Debian: wine wine64).
# Enables testing in the calling directory: a project that forgot
# enable_testing() would otherwise have ctest find no test and pass. Called
# from a subdirectory, the top-level CMakeLists still needs enable_testing().
# A macro, because enable_testing() records itself in a variable of the
# calling scope (inside a function it would be forgotten at the return).
macro(wdkm_add_wine_test)
  enable_testing()
  _wdkm_add_wine_test(${ARGV})
endmacro()

function(_wdkm_add_wine_test name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "RUNNER;TIMEOUT" "DRIVERS;ARGS")
  if(ARG_UNPARSED_ARGUMENTS OR NOT ARG_RUNNER)
    message(FATAL_ERROR "wdkm_add_wine_test(${name} RUNNER <exe> [DRIVERS ...] [ARGS ...] [TIMEOUT s])")
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  foreach(driver IN LISTS ARG_DRIVERS)
    add_dependencies(${ARG_RUNNER} ${driver})
    add_custom_command(TARGET ${ARG_RUNNER} POST_BUILD
      COMMAND "${CMAKE_COMMAND}" -E copy_if_different
              "$<TARGET_FILE:${driver}>" "$<TARGET_FILE_DIR:${ARG_RUNNER}>"
      VERBATIM)
  endforeach()
  add_test(NAME ${name}
    COMMAND bash "${WDKM_WINE_RUN}" "${CMAKE_CURRENT_BINARY_DIR}/wdkm-wine/${name}"
            "$<TARGET_FILE:${ARG_RUNNER}>" ${ARG_ARGS})
  set_tests_properties(${name} PROPERTIES
    TIMEOUT ${ARG_TIMEOUT}
    ENVIRONMENT "WDKM_WINE_TIMEOUT=${ARG_TIMEOUT}")
endfunction()

# The user-mode helper library shared by the test runner and the demo:
# built from support/ in the tree, imported from the installed package.
if(NOT TARGET wdkm_support)
  if(WDKM_PACKAGE_DIR)
    add_library(wdkm_support INTERFACE IMPORTED)
    set_property(TARGET wdkm_support PROPERTY INTERFACE_LINK_LIBRARIES wdkmutex::wdkm_support)
  else()
    add_subdirectory("${WDKM_SOURCE_ROOT}/support" "${CMAKE_BINARY_DIR}/support")
  endif()
endif()
