// SPDX-License-Identifier: Apache-2.0
// The golden corpus: every testdata/NAME.dockerfile is parsed and its dump (or its error) must
// equal testdata/NAME.golden. MYDOCKER_UPDATE_GOLDEN=1 rewrites the goldens instead; they are
// reviewed by reading them, so check each change by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "image/dockerfile/instructions.h"

namespace mydocker::image::dockerfile {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string render(const std::string& text) {
  auto df = parse_dockerfile(text);
  if (!df.has_value()) {
    return "error: " + df.error().message() + "\n";
  }
  return dump(*df);
}

std::vector<fs::path> corpus() {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(MYDOCKER_DOCKERFILE_TESTDATA, ec)) {
    if (e.path().extension() == ".dockerfile") {
      out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(DockerfileGolden, CorpusIsThere) {
  EXPECT_GE(corpus().size(), 30u);
}

TEST(DockerfileGolden, EveryFileMatchesItsGolden) {
  const char* update = std::getenv("MYDOCKER_UPDATE_GOLDEN");
  bool regenerate = update != nullptr && std::string(update) == "1";
  for (const auto& path : corpus()) {
    SCOPED_TRACE(path.filename().string());
    std::string got = render(slurp(path));
    fs::path golden = path;
    golden.replace_extension(".golden");
    if (regenerate) {
      std::ofstream(golden, std::ios::binary) << got;
      continue;
    }
    ASSERT_TRUE(fs::exists(golden)) << "no golden: " << golden;
    EXPECT_EQ(got, slurp(golden));
  }
}

}  // namespace
}  // namespace mydocker::image::dockerfile
