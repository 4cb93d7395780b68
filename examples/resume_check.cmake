# train_digits interrupted mid-epoch (--stop-after) and resumed ends byte-identical to the run
# without interruption: model checkpoint, loss curve and epoch log. Every optimizer option set
# that resume touches is on: Lookahead, warm-up, a schedule, dropout, shuffling.
#   cmake -DPROGRAM=train_digits -DDIR=out -P resume_check.cmake
file(REMOVE_RECURSE ${DIR})
file(MAKE_DIRECTORY ${DIR})
set(common --epochs 3 --warmup 10 --schedule sgdr)
function(run)
  execute_process(COMMAND ${PROGRAM} ${common} ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE out)
  message(STATUS "${out}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "train_digits ${ARGN} failed (${rc})")
  endif()
endfunction()
run(--curve ${DIR}/straight.csv --checkpoint ${DIR}/straight.safetensors
    --plot ${DIR}/straight.png)
# 20 batches an epoch: update 27 is in the middle of the second epoch, update 40 its last batch
# (saved before the end-of-epoch evaluation)
foreach(stop 27 40)
  file(REMOVE ${DIR}/resumed.csv ${DIR}/resumed_epochs.csv ${DIR}/state.safetensors)
  run(--curve ${DIR}/resumed.csv --checkpoint ${DIR}/resumed.safetensors
      --plot ${DIR}/resumed.png --save-state ${DIR}/state.safetensors --stop-after ${stop})
  file(SHA256 ${DIR}/state.safetensors saved)
  run(--curve ${DIR}/resumed.csv --checkpoint ${DIR}/resumed.safetensors
      --plot ${DIR}/resumed.png --resume ${DIR}/state.safetensors)
  file(SHA256 ${DIR}/state.safetensors after)
  if(NOT saved STREQUAL after)
    message(FATAL_ERROR "resuming from the state rewrote it")
  endif()
  foreach(pair "straight.safetensors;resumed.safetensors" "straight.csv;resumed.csv"
          "straight_epochs.csv;resumed_epochs.csv")
    list(GET pair 0 a)
    list(GET pair 1 b)
    execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${DIR}/${a} ${DIR}/${b}
                    RESULT_VARIABLE differ)
    if(differ)
      message(FATAL_ERROR "stopped at ${stop} and resumed, the run differs: ${a} vs ${b}")
    endif()
    message(STATUS "stopped at ${stop}: identical ${a} and ${b}")
  endforeach()
endforeach()

# The state of a run is refused under another schedule or batch size, naming what differs, and
# nothing is written.
foreach(change "--schedule step|saved with --schedule sgdr, this one has --schedule step"
               "--schedule sgdr --batch-size 32|saved with --batch-size 64, this one has"
               "--schedule sgdr --seed 7|saved with --seed 0, this one has --seed 7"
               "--schedule sgdr --lr 0.5|saved with --lr default, this one has --lr 0.5")
  string(REPLACE "|" ";" change "${change}")
  list(GET change 0 options)
  list(GET change 1 expected)
  separate_arguments(options)
  file(REMOVE ${DIR}/other.csv)
  execute_process(COMMAND ${PROGRAM} --epochs 3 --warmup 10 ${options} --curve ${DIR}/other.csv
                          --checkpoint ${DIR}/other.safetensors --plot ${DIR}/other.png
                          --resume ${DIR}/state.safetensors
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  string(FIND "${out}" "${expected}" at)
  if(rc EQUAL 0 OR at EQUAL -1 OR EXISTS ${DIR}/other.csv)
    message(FATAL_ERROR "resumed with ${options}, the run was not refused: ${out}")
  endif()
  message(STATUS "resumed with ${options}: refused")
endforeach()
