// SPDX-License-Identifier: Apache-2.0
// Replay driver for builds without libFuzzer (MYDOCKER_FUZZ=OFF, any compiler): runs
// LLVMFuzzerTestOneInput once over every file given on the command line, or every regular file
// of a directory given (sorted, not recursive). A crash or a failed FUZZ_CHECK aborts the
// process, so ctest reports the seed corpus replay as failed. Exits 1 when no input was found:
// an empty or misspelled corpus must not pass silently.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "runtime/base/file.h"
#include "tests/fuzz/fuzz_check.h"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  std::vector<std::string> inputs;
  for (int i = 1; i < argc; ++i) {
    std::error_code ec;
    fs::path arg(argv[i]);
    if (fs::is_directory(arg, ec)) {
      for (fs::directory_iterator it(arg, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->is_regular_file(ec)) {
          inputs.push_back(it->path().string());
        }
      }
      if (ec) {
        std::fprintf(stderr, "replay: list `%s`: %s\n", argv[i], ec.message().c_str());
        return 1;
      }
    } else {
      inputs.emplace_back(argv[i]);
    }
  }
  std::sort(inputs.begin(), inputs.end());
  if (inputs.empty()) {
    std::fprintf(stderr, "replay: no inputs (usage: %s CORPUS_DIR|FILE...)\n", argv[0]);
    return 1;
  }
  for (const std::string& path : inputs) {
    auto bytes = mydocker::base::read_file(path);
    if (!bytes) {
      std::fprintf(stderr, "replay: %s\n", bytes.error().to_string().c_str());
      return 1;
    }
    std::fprintf(stderr, "replay: %s (%zu bytes)\n", path.c_str(), bytes->size());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size());
  }
  std::printf("replayed %zu inputs\n", inputs.size());
  return 0;
}
