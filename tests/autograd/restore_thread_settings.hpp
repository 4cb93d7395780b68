#pragma once
// For tests that change the thread settings (threads.hpp): puts them back when it goes out of
// scope.

#include <cstdint>
#include <descent/threads.hpp>

struct RestoreThreadSettings {
    int threads = descent::get_num_threads();
    std::int64_t threshold = descent::parallel_threshold();
    ~RestoreThreadSettings() {
        descent::set_num_threads(threads);
        descent::set_parallel_threshold(threshold);
    }
};
