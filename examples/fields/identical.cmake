# Two runs of `optimizer_fields --quick` into the same directory write the same files to the
# byte: the tables and the gnuplot scripts with the figures' data (the PNGs are gnuplot's).
#   cmake -DPROGRAM=optimizer_fields -DDIR=out -P identical.cmake
file(REMOVE_RECURSE ${DIR})
function(run)
  execute_process(COMMAND ${PROGRAM} --quick --out ${DIR}/run
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  message(STATUS "${out}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${PROGRAM} --quick failed (${rc})")
  endif()
endfunction()
run()
file(RENAME ${DIR}/run ${DIR}/first)
run()
file(GLOB files RELATIVE ${DIR}/first ${DIR}/first/*.txt ${DIR}/first/*.gp)
list(LENGTH files count)
if(count LESS 2)
  message(FATAL_ERROR "the quick run wrote only: ${files}")
endif()
foreach(f ${files})
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${DIR}/first/${f} ${DIR}/run/${f}
                  RESULT_VARIABLE differ)
  if(differ)
    message(FATAL_ERROR "two quick runs differ: ${f}")
  endif()
  message(STATUS "identical: ${f}")
endforeach()
