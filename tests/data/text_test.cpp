// Text files: the bundled tiny Shakespeare and read_text (plain and gzip, max_bytes, hostile
// paths).

#include <sys/stat.h>
#include <catch2/catch.hpp>

#include <descent/autograd.hpp>
#include <descent/data.hpp>

#include "../nn/checkpoint_files.hpp"
#include "byte_files.hpp"

namespace dc = descent;
namespace data = descent::data;
using Catch::Matchers::Contains;
using descent::test::gzip_member;
using descent::test::TempDir;
using descent::test::write_bytes;

TEST_CASE("tiny Shakespeare: the bundled corpus reads whole", "[data-text]") {
    const std::string text = data::tiny_shakespeare();
    CHECK(text.size() == 1115394);
    CHECK(text.starts_with("First Citizen:\nBefore we proceed any further, hear me speak."));
    CHECK(text.ends_with("Whiles thou art waking.\n"));
}

TEST_CASE("read_text: plain and gzip, max_bytes, and hostile paths", "[data-text][hostile]") {
    TempDir dir;
    std::string text;
    for (int i = 0; i < 100000; ++i) text += static_cast<char>('a' + i % 26);
    write_bytes(dir.path / "plain.txt", text);
    write_bytes(dir.path / "packed.txt.gz",
                gzip_member(text.substr(0, 3)) + gzip_member(text.substr(3)));
    CHECK(data::read_text(dir.path / "plain.txt") == text);
    CHECK(data::read_text(dir.path / "packed.txt.gz") == text);
    CHECK(data::read_text(dir.path / "packed.txt.gz", 100000) == text);
    CHECK_THROWS_WITH(data::read_text(dir.path / "packed.txt.gz", 99999),
                      Contains("read_text") && Contains("packed.txt.gz") &&
                          Contains("more than max_bytes = 99999"));
    write_bytes(dir.path / "empty.txt", "");
    CHECK(data::read_text(dir.path / "empty.txt").empty());
    const std::string gz = gzip_member(text);
    write_bytes(dir.path / "cut.txt.gz", gz.substr(0, gz.size() / 2));
    CHECK_THROWS_WITH(data::read_text(dir.path / "cut.txt.gz"),
                      Contains("read_text") && Contains("cut.txt.gz") && Contains("ends early"));
    REQUIRE(::mkfifo((dir.path / "pipe").c_str(), 0600) == 0);
    CHECK_THROWS_WITH(data::read_text(dir.path / "pipe"),
                      Contains("read_text") && Contains("a FIFO"));
    CHECK_THROWS_WITH(data::read_text(dir.path), Contains("a directory"));
    CHECK_THROWS_WITH(data::read_text(dir.path / "none.txt"),
                      Contains("none.txt") && Contains("cannot open"));
}
