// SPDX-License-Identifier: Apache-2.0
#include "engine/names/names.h"

#include <sys/random.h>

#include <array>
#include <cstdint>

#include "runtime/base/error.h"

namespace mydocker::engine::names {
namespace {

// Our own lists (Docker's idea: a mood and somebody worth remembering). Not Docker's lists.
constexpr std::array kAdjectives = {
    "agile",   "amber",  "ample",   "ardent",   "artful",   "astute",  "balmy",    "bold",
    "brave",   "breezy", "bright",  "brisk",    "calm",     "candid",  "cheerful", "civic",
    "clever",  "cosmic", "crisp",   "curious",  "daring",   "deft",    "devoted",  "eager",
    "earnest", "elated", "elegant", "epic",     "fearless", "fervent", "festive",  "fluent",
    "focused", "frank",  "gallant", "gentle",   "gifted",   "glad",    "golden",   "graceful",
    "hardy",   "hearty", "honest",  "humble",   "idle",     "jolly",   "jovial",   "keen",
    "kind",    "lively", "loyal",   "lucid",    "lucky",    "mellow",  "merry",    "mighty",
    "modest",  "nimble", "noble",   "patient",  "peaceful", "placid",  "plucky",   "polite",
    "proud",   "quiet",  "quirky",  "radiant",  "rapid",    "ready",   "regal",    "relaxed",
    "robust",  "rosy",   "rustic",  "serene",   "sharp",    "shiny",   "silent",   "sincere",
    "sleepy",  "snappy", "solemn",  "spry",     "steady",   "stoic",   "sturdy",   "sunny",
    "swift",   "tender", "tidy",    "tranquil", "trusty",   "upbeat",  "valiant",  "vivid",
    "warm",    "wise",   "witty",   "zealous",
};

// Scientists, engineers and mathematicians.
constexpr std::array kSurnames = {
    "abel",       "agnesi",    "alhazen",     "ampere",       "archimedes", "babbage",
    "banach",     "bernoulli", "bohr",        "boole",        "borel",      "bose",
    "brahe",      "cantor",    "carnot",      "cauchy",       "cavendish",  "chandra",
    "clarke",     "coulomb",   "curie",       "darwin",       "dedekind",   "dijkstra",
    "dirac",      "doppler",   "edison",      "einstein",     "euclid",     "euler",
    "faraday",    "fermat",    "fermi",       "feynman",      "fourier",    "franklin",
    "fresnel",    "galileo",   "galois",      "gauss",        "germain",    "gibbs",
    "godel",      "hamilton",  "hawking",     "heisenberg",   "hertz",      "hilbert",
    "hopper",     "huygens",   "hypatia",     "jacobi",       "joule",      "kelvin",
    "kepler",     "klein",     "knuth",       "kovalevskaya", "lagrange",   "lamarr",
    "laplace",    "leibniz",   "lovelace",    "lorentz",      "maxwell",    "meitner",
    "mendel",     "minsky",    "mirzakhani",  "napier",       "nash",       "newton",
    "noether",    "ohm",       "pascal",      "pasteur",      "pauli",      "planck",
    "poincare",   "ptolemy",   "raman",       "ramanujan",    "riemann",    "ritchie",
    "rutherford", "sagan",     "schrodinger", "shannon",      "somerville", "stokes",
    "tesla",      "thompson",  "torvalds",    "turing",       "volta",      "wiles",
    "wozniak",    "yalow",     "zuse",        "kowalski",
};

uint64_t random_u64() {
  uint64_t v = 0;
  // getrandom on a small buffer does not fail short once the pool is initialised.
  while (::getrandom(&v, sizeof v, 0) != static_cast<ssize_t>(sizeof v)) {
  }
  return v;
}

bool name_char(char c, bool first) {
  bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  return alnum || (!first && (c == '_' || c == '.' || c == '-'));
}

bool is_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string generate_id() {
  static constexpr char kHex[] = "0123456789abcdef";
  for (;;) {
    std::string id;
    id.reserve(64);
    for (int i = 0; i < 4; ++i) {
      uint64_t v = random_u64();
      for (int j = 0; j < 16; ++j) {
        id.push_back(kHex[v & 0xf]);
        v >>= 4;
      }
    }
    bool all_digits = true;
    for (size_t i = 0; i < 12; ++i) {
      all_digits = all_digits && id[i] >= '0' && id[i] <= '9';
    }
    if (!all_digits) {
      return id;
    }
  }
}

std::string random_name(int attempt) {
  uint64_t r = random_u64();
  std::string name = std::string(kAdjectives[r % kAdjectives.size()]) + "_" +
                     kSurnames[(r / kAdjectives.size()) % kSurnames.size()];
  if (attempt > 0) {
    name += std::to_string((r >> 32) % 10);
  }
  return name;
}

base::Result<std::string> validate_name(std::string_view name) {
  std::string_view bare = name;
  if (bare.starts_with('/')) {
    bare.remove_prefix(1);
  }
  bool ok = bare.size() >= 2;
  for (size_t i = 0; ok && i < bare.size(); ++i) {
    ok = name_char(bare[i], i == 0);
  }
  if (!ok) {
    return base::make_error(
        base::ErrorCode::InvalidArgument,
        "Invalid container name ({}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name);
  }
  return "/" + std::string(bare);
}

std::string name_conflict_message(std::string_view name_with_slash, std::string_view holder_id) {
  return fmt::format(
      "Conflict. The container name \"{}\" is already in use by container \"{}\". You have to "
      "remove (or rename) that container to be able to reuse that name.",
      name_with_slash, holder_id);
}

base::Result<std::string> resolve(const Index& index, std::string_view ref) {
  auto not_found = [&] {
    return base::make_error(base::ErrorCode::NotFound, "No such container: {}", ref);
  };
  if (ref.empty()) {
    return not_found();
  }
  if (index.ids.count(std::string(ref)) > 0) {
    return std::string(ref);
  }
  std::string name = ref.starts_with('/') ? std::string(ref) : "/" + std::string(ref);
  if (auto it = index.names.find(name); it != index.names.end()) {
    return it->second;
  }
  if (!is_hex(ref)) {
    return not_found();
  }
  auto it = index.ids.lower_bound(std::string(ref));
  if (it == index.ids.end() || !it->starts_with(ref)) {
    return not_found();
  }
  auto next = std::next(it);
  if (next != index.ids.end() && next->starts_with(ref)) {
    // dockerd answers 500 here (transcript 144): the error is not one of its typed ones.
    return base::make_error(base::ErrorCode::Internal,
                            "Multiple IDs found with provided prefix: {}", ref);
  }
  return *it;
}

}  // namespace mydocker::engine::names
