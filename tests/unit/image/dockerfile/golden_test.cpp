// SPDX-License-Identifier: Apache-2.0
// The golden corpus: every testdata/NAME.dockerfile is parsed and its dump (or its error), then
// the "expand" lines of a simulated build (see expansions()), must equal testdata/NAME.golden.
// MYDOCKER_UPDATE_GOLDEN=1 rewrites the goldens instead; they are reviewed by reading them, so
// check each change by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "image/dockerfile/instructions.h"
#include "image/dockerfile/scope.h"

namespace mydocker::image::dockerfile {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// After the dump, the substitutions a build with no --build-arg would make, step by step, with
// Docker's scoping (StageScope); only the instructions whose expansion changes something. A
// stage built FROM an earlier stage starts with that stage's ENV (its image config); an image
// from elsewhere is taken to have no ENV.
std::string expansions(const Dockerfile& df) {
  std::string out;
  auto meta = resolve_meta_args(df, {});
  if (!meta.has_value()) {
    return "expand error: " + meta.error().message() + "\n";
  }
  std::map<std::string, Env> stage_env;
  for (size_t i = 0; i < df.stages.size(); ++i) {
    const auto& st = df.stages[i];
    auto base = expand_word(st.base, *meta, LexOptions{df.escape});
    std::string b = base.has_value() ? *base : "error: " + base.error().message();
    if (b != st.base) {
      out += "expand stage " + std::to_string(i) + " FROM " + b + "\n";
    }
    auto inherited = stage_env.find(b);
    StageScope scope(*meta, {}, inherited == stage_env.end() ? Env{} : inherited->second);
    for (const auto& ins : st.commands) {
      Instruction copy = ins;
      if (expands_variables(copy)) {
        auto r = expand_instruction(copy, scope.expansion_env(), df.escape);
        if (!r.has_value()) {
          out += "expand error: " + r.error().message() + "\n";
          continue;
        }
        std::string after = dump_instruction(copy);
        if (after != dump_instruction(ins)) {
          out += "expand " + after + "\n";
        }
      }
      if (ins.as<ArgCmd>()) {
        auto r = scope.declare(ins, df.escape);
        if (!r.has_value()) {
          out += "expand error: " + r.error().message() + "\n";
        }
      } else if (const auto* env = copy.as<EnvCmd>()) {
        for (const auto& kv : env->env) {
          scope.set_env(kv.key, kv.value);
        }
      }
    }
    if (!st.name.empty()) {
      stage_env[st.name] = scope.env();
    }
  }
  return out;
}

std::string render(const std::string& text) {
  auto df = parse_dockerfile(text);
  if (!df.has_value()) {
    return "error: " + df.error().message() + "\n";
  }
  return dump(*df) + expansions(*df);
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
