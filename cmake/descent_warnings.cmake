# Compiler settings shared by every descent target: warnings are errors on our code,
# third-party headers come in as SYSTEM includes through their imported targets.
function(descent_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Werror)
  # GCC 12 reports its own AVX-512 intrinsics (_mm512_undefined_*, inlined from Eigen) as
  # uninitialised: GCC bug 105593, fixed in GCC 13. Only that compiler loses these two warnings.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE -Wno-uninitialized -Wno-maybe-uninitialized)
  endif()
endfunction()

# Host tuning is a usage requirement: code that inlines Eigen kernels from our headers must be
# compiled for the same instruction set as the library itself.
function(descent_set_arch target)
  if(DESCENT_NATIVE)
    target_compile_options(${target} PUBLIC "$<BUILD_INTERFACE:${DESCENT_ARCH_FLAGS}>")
  endif()
endfunction()
