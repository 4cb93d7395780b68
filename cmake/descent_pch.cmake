# descent_precompile_headers(<target>): compiles descent's umbrella headers once for <target>
# (CMake's target_precompile_headers) instead of in each of its translation units: a unit that
# includes them and trains a small model compiles in ~0.6 s instead of ~1.3 s (bench/README.md,
# "Build cost"). For targets that link descent::descent.
function(descent_precompile_headers target)
  target_precompile_headers(${target} PRIVATE <descent/autograd.hpp> <descent/nn.hpp>
                            <descent/optim.hpp> <descent/data.hpp>)
endfunction()
