# train_digits data-parallel (the proofs of descent::distributed on the main job):
#  - mpirun -np 2 twice: byte-identical loss curves, epoch logs and checkpoints;
#  - the world emulated in one process (--local-ranks R) gives the bytes of mpirun -np R, R = 2, 3;
#  - stopped and resumed from a training state, distributed: the bytes of the straight run;
#  - the held-out accuracy is the one process's, within 2 points.
#   cmake -DPROGRAM=train_digits -DMPIEXEC="mpirun;-np" -DMPIFLAGS="..." -DDIR=out -P distributed_check.cmake
file(REMOVE_RECURSE ${DIR})
file(MAKE_DIRECTORY ${DIR})
set(common --epochs 4 --warmup 10 --schedule sgdr)

# run(name ranks|local|one args...): trains into ${DIR}/<name>.* and sets <name>_accuracy
function(run name how)
  set(files --curve ${DIR}/${name}.csv --checkpoint ${DIR}/${name}.safetensors
            --plot ${DIR}/${name}.png)
  if(how STREQUAL "one")
    set(command ${PROGRAM})
  elseif(how MATCHES "^local([0-9]+)$")
    set(command ${PROGRAM} --local-ranks ${CMAKE_MATCH_1})
  else()
    set(command ${MPIEXEC} ${how} ${MPIFLAGS} ${PROGRAM} --distributed)
  endif()
  execute_process(COMMAND ${command} ${common} ${files} ${ARGN} RESULT_VARIABLE rc
                  OUTPUT_VARIABLE out ERROR_VARIABLE out)
  message(STATUS "${name}: ${out}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${name} (${command} ${ARGN}) failed (${rc})")
  endif()
  if(out MATCHES "epoch   4 [^\n]*test accuracy ([0-9.]+)")
    set(${name}_accuracy ${CMAKE_MATCH_1} PARENT_SCOPE)
  endif()
endfunction()

function(same a b why)
  foreach(suffix .safetensors .csv _epochs.csv)
    execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${DIR}/${a}${suffix}
                            ${DIR}/${b}${suffix} RESULT_VARIABLE differ)
    if(differ)
      message(FATAL_ERROR "${why}: ${a}${suffix} and ${b}${suffix} differ")
    endif()
  endforeach()
  message(STATUS "${why}: ${a} and ${b} are byte-identical")
endfunction()

run(mpi2 2)
run(mpi2_again 2)
same(mpi2 mpi2_again "mpirun -np 2 twice")
run(local2 local2)
same(mpi2 local2 "mpirun -np 2 and 2 ranks in one process")
run(mpi3 3)
run(local3 local3)
same(mpi3 local3 "mpirun -np 3 and 3 ranks in one process")

# 20 batches an epoch: stopped in the middle of the second epoch, resumed distributed
run(resumed 2 --save-state ${DIR}/state.safetensors --stop-after 27)
run(resumed 2 --resume ${DIR}/state.safetensors)
same(mpi2 resumed "stopped at update 27 and resumed under mpirun -np 2")

run(one one)
message(STATUS "held-out accuracy: one process ${one_accuracy}, 2 ranks ${mpi2_accuracy}, "
               "3 ranks ${mpi3_accuracy}")
# accuracies printed as d.dddd: compared in hundredths of a point
function(basis_points acc out)
  string(REPLACE "." "" digits "${acc}")
  string(REGEX REPLACE "^0+([0-9])" "\\1" digits "${digits}")
  set(${out} ${digits} PARENT_SCOPE)
endfunction()
if(NOT one_accuracy OR NOT mpi2_accuracy OR NOT mpi3_accuracy)
  message(FATAL_ERROR "a run printed no test accuracy for epoch 4")
endif()
basis_points(${one_accuracy} one)
foreach(acc ${mpi2_accuracy} ${mpi3_accuracy})
  basis_points(${acc} ranks)
  math(EXPR gap "${ranks} - ${one}")
  if(gap GREATER 200 OR gap LESS -200)
    message(FATAL_ERROR "held-out accuracy ${acc} distributed against ${one_accuracy} in one process")
  endif()
endforeach()
