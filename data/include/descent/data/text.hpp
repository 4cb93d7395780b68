#pragma once
// Text files for language models: read whole, plain or gzip-compressed, and the bundled
// "tiny Shakespeare" corpus (data/bundled/tinyshakespeare.txt.gz; its README.md says where it
// comes from). Tokenizers are in char_tokenizer.hpp and word_tokenizer.hpp, batches for
// truncated backpropagation through time in bptt.hpp.
//
//   std::string text = descent::data::tiny_shakespeare();   // 1,115,394 characters

#include <cstdint>
#include <filesystem>
#include <string>

namespace descent::data {

/// All bytes of a text file, inflated if it is gzip. A path that is no regular file, a
/// truncated or corrupt gzip stream, or more than max_bytes of text is a FormatError naming
/// the file.
std::string read_text(const std::filesystem::path& path,
                      std::uint64_t max_bytes = std::uint64_t{1} << 32);

/// The tiny Shakespeare corpus (40,000 lines of Shakespeare's plays, as char-rnn trains on),
/// from data_directory() (datasets.hpp).
std::string tiny_shakespeare();

}  // namespace descent::data
