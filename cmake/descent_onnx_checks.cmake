# The ctest tests that check export_onnx's files with real tools:
#   onnx_export         nn_tests "[onnx]": writes the files (fixture onnx_files)
#   onnx_runtime_check  ONNX Runtime's CPU build (onnxruntime-node) runs each model on the saved
#                       input and compares with descent's output
#   onnx_checker        onnx.checker.check_model(full_check=True) on each file
# Without node, onnxruntime-node (tools/onnx/node_modules) or a python3 that imports onnx, the
# two checks cannot run: with DESCENT_REQUIRE_ONNX_RUNTIME (the README's test command and CI set
# it) they are registered to fail with the reason; without it they are left out, said here.
option(DESCENT_REQUIRE_ONNX_RUNTIME
       "Fail the ONNX checks (not skip them) when node, onnxruntime-node or python3-onnx is missing"
       OFF)

add_test(NAME onnx_export COMMAND nn_tests "[onnx]")
set_tests_properties(onnx_export PROPERTIES FIXTURES_SETUP onnx_files)

set(onnx_module_dir ${PROJECT_SOURCE_DIR}/tools/onnx/node_modules/onnxruntime-node)
find_program(DESCENT_NODE node)
# Debian's python3 first: python3-onnx installs there, and a python3 earlier on PATH (pyenv, a
# virtualenv) may not have it.
find_program(DESCENT_ONNX_PYTHON python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT DESCENT_ONNX_PYTHON)
  find_program(DESCENT_ONNX_PYTHON python3)
endif()

function(descent_onnx_check name reason)
  # reason: empty if the check can run; the remaining arguments are its command.
  if(reason STREQUAL "")
    add_test(NAME ${name} COMMAND ${ARGN})
  elseif(DESCENT_REQUIRE_ONNX_RUNTIME)
    message(WARNING "descent: ${name} cannot run (${reason}); it is registered to fail")
    add_test(NAME ${name} COMMAND sh -c "echo '${name}: ${reason}' >&2; exit 1")
  else()
    message(STATUS "descent: ${name} left out (${reason}); tools/setup-debian.sh installs "
                   "what it needs, -DDESCENT_REQUIRE_ONNX_RUNTIME=ON makes it fail instead")
    return()
  endif()
  set_tests_properties(${name} PROPERTIES FIXTURES_REQUIRED onnx_files)
endfunction()

set(reason "")
if(NOT DESCENT_NODE)
  set(reason "node not found (Debian: nodejs)")
elseif(NOT EXISTS ${onnx_module_dir})
  set(reason "onnxruntime-node not installed: npm ci --prefix tools/onnx")
endif()
descent_onnx_check(onnx_runtime_check "${reason}" ${DESCENT_NODE}
                   ${PROJECT_SOURCE_DIR}/tools/onnx_runtime_check.mjs ${DESCENT_ONNX_DIR})

set(reason "")
if(NOT DESCENT_ONNX_PYTHON)
  set(reason "python3 not found")
else()
  execute_process(COMMAND ${DESCENT_ONNX_PYTHON} -c "import onnx" RESULT_VARIABLE no_onnx
                  OUTPUT_QUIET ERROR_QUIET)
  if(no_onnx)
    set(reason "${DESCENT_ONNX_PYTHON} cannot import onnx (Debian: python3-onnx)")
  endif()
endif()
descent_onnx_check(onnx_checker "${reason}" ${DESCENT_ONNX_PYTHON}
                   ${PROJECT_SOURCE_DIR}/tools/onnx_checker.py ${DESCENT_ONNX_DIR})
