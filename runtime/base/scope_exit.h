// SPDX-License-Identifier: Apache-2.0
// ScopeExit: runs a callable when the scope ends unless dismiss()ed. Multi-step creation uses
// it to roll back: each step adds its undo, and success dismisses them all.
#pragma once

#include <utility>

namespace mydocker::base {

template <typename F>
class [[nodiscard]] ScopeExit {
 public:
  explicit ScopeExit(F f) : f_(std::move(f)) {}
  ScopeExit(const ScopeExit&) = delete;
  ScopeExit& operator=(const ScopeExit&) = delete;
  ~ScopeExit() {
    if (active_) {
      f_();
    }
  }
  void dismiss() { active_ = false; }

 private:
  F f_;
  bool active_ = true;
};

}  // namespace mydocker::base
