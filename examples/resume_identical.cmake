# A run of fashion_cnn or char_lm stopped after update STOP (--stop-after) and resumed from its
# checkpoint ends byte-identical to the run without interruption: the checkpoint (model,
# optimizer, schedule, data position, generators, curves) and both CSV files.
#   cmake -DPROGRAM=char_lm "-DARGS=--limit;20000" -DSTOP=7 -DDIR=out -P resume_identical.cmake
file(REMOVE_RECURSE ${DIR})
file(MAKE_DIRECTORY ${DIR})
function(run name)
  execute_process(COMMAND ${PROGRAM} ${ARGS} --curve ${DIR}/${name}.csv
                          --plot ${DIR}/${name}.png --checkpoint ${DIR}/${name}.safetensors
                          ${ARGN}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  message(STATUS "${out}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${PROGRAM} ${ARGN} failed (${rc})")
  endif()
endfunction()
run(straight)
run(resumed --stop-after ${STOP})
run(resumed --resume ${DIR}/resumed.safetensors)
foreach(suffix .safetensors .csv _epochs.csv)
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${DIR}/straight${suffix}
                          ${DIR}/resumed${suffix} RESULT_VARIABLE differ)
  if(differ)
    message(FATAL_ERROR "stopped after update ${STOP} and resumed, the run differs: ${suffix}")
  endif()
  message(STATUS "stopped after update ${STOP}: identical straight${suffix}, resumed${suffix}")
endforeach()
