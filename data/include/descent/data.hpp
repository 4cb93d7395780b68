#pragma once
// Umbrella header of descent's data library: data and training utilities — the bundled data
// sets, CSV files, splits, the mini-batch loader, feature standardisation, curriculum
// ordering, metrics, the one-file training state, IDX files and Fashion-MNIST, text
// tokenizers with BPTT batches, and image augmentation.

#include "descent/data/augment.hpp"
#include "descent/data/bptt.hpp"
#include "descent/data/char_tokenizer.hpp"
#include "descent/data/csv.hpp"
#include "descent/data/curriculum.hpp"
#include "descent/data/datasets.hpp"
#include "descent/data/fashion_mnist.hpp"
#include "descent/data/idx.hpp"
#include "descent/data/loader.hpp"
#include "descent/data/metrics.hpp"
#include "descent/data/split.hpp"
#include "descent/data/standardizer.hpp"
#include "descent/data/text.hpp"
#include "descent/data/training_state.hpp"
#include "descent/data/word_tokenizer.hpp"
