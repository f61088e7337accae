# Host (Linux, user-mode) build settings shared by every host target.
#
# WDKM_SANITIZE selects an instrumented build: "" (plain), "address"
# (AddressSanitizer + UndefinedBehaviorSanitizer) or "thread" (ThreadSanitizer).
set(WDKM_SANITIZE "" CACHE STRING "Host sanitizer: '', 'address' or 'thread'")

function(wdkm_host_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -pedantic-errors)
endfunction()

if(WDKM_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined -fno-sanitize-recover=all)
elseif(WDKM_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
elseif(NOT WDKM_SANITIZE STREQUAL "")
  message(FATAL_ERROR "WDKM_SANITIZE must be '', 'address' or 'thread'")
endif()
