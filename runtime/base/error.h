// SPDX-License-Identifier: Apache-2.0
// The one error type of mydocker, and Result<T>.
//
// An Error carries a code (as moby/containerd errdefs), the errno captured at the failing call
// (0 when none), and a message that gains context on the way up:
//   return std::move(err).wrap("create container `web`");
// to_string() gives "create container `web`: mount `proc` on `/proc`: Operation not permitted".
//
// Result<T> mirrors the surface of std::expected (has_value, value, error, *, ->) so it can
// become std::expected once the toolchain has C++23.
#pragma once

#include <fmt/format.h>

#include <cerrno>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace mydocker::base {

enum class ErrorCode {
  InvalidArgument,
  NotFound,
  AlreadyExists,
  Conflict,
  FailedPrecondition,
  PermissionDenied,
  Unauthorized,
  Unavailable,
  NotImplemented,
  NotModified,
  Cancelled,
  Internal,
};

std::string_view error_code_name(ErrorCode code);

// The code an errno value most naturally maps to (EPERM -> PermissionDenied, ...).
ErrorCode code_from_errno(int err);

class Error {
 public:
  Error(ErrorCode code, std::string message, int sys_errno = 0)
      : code_(code), sys_errno_(sys_errno), message_(std::move(message)) {}

  ErrorCode code() const { return code_; }
  int sys_errno() const { return sys_errno_; }
  // The message with its context, without the errno text.
  const std::string& message() const { return message_; }
  // The message plus strerror(sys_errno) when an errno was captured.
  std::string to_string() const;

  // Prepends "context: " to the message.
  Error& wrap(std::string_view context) &;
  Error&& wrap(std::string_view context) &&;

 private:
  ErrorCode code_;
  int sys_errno_;
  std::string message_;
};

// make_error(ErrorCode::InvalidArgument, "bad `{}`", name)
template <typename... Args>
Error make_error(ErrorCode code, fmt::format_string<Args...> f, Args&&... args) {
  return Error(code, fmt::format(f, std::forward<Args>(args)...));
}

// sys_error("mount `{}`", target): captures errno now; the code follows the errno.
template <typename... Args>
Error sys_error(fmt::format_string<Args...> f, Args&&... args) {
  int err = errno;
  return Error(code_from_errno(err), fmt::format(f, std::forward<Args>(args)...), err);
}

// Same, with an explicit errno (for calls that return it, like posix_spawn or pthread_*).
template <typename... Args>
Error sys_error_n(int err, fmt::format_string<Args...> f, Args&&... args) {
  return Error(code_from_errno(err), fmt::format(f, std::forward<Args>(args)...), err);
}

template <typename T>
class [[nodiscard]] Result {
 public:
  using value_type = T;
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}      // NOLINT: implicit
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit
  template <typename U>
  requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, Error> &&
           !std::is_same_v<std::decay_t<U>, Result>) Result(U&& value)
      : v_(std::in_place_index<0>, T(std::forward<U>(value))) {}  // NOLINT

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  Error& error() & { return std::get<1>(v_); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return has_value() ? value() : T(std::forward<U>(fallback));
  }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  using value_type = void;
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit

  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  void value() const {}

  Error& error() & { return error_; }
  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_{ErrorCode::Internal, ""};
  bool ok_ = true;
};

inline Result<void> ok() {
  return {};
}

}  // namespace mydocker::base

// MYDOCKER_TRY(expr): evaluates a Result; on error returns it from the enclosing function
// (which must return a Result of any type), else yields the value. GNU statement expression:
// g++ and clang both have it, and it keeps call sites one line. Each use gets its own local
// name (__COUNTER__), so uses can nest without -Wshadow.
#define MYDOCKER_CONCAT_INNER_(a, b) a##b
#define MYDOCKER_CONCAT_(a, b) MYDOCKER_CONCAT_INNER_(a, b)
#define MYDOCKER_TRY(expr) MYDOCKER_TRY_IMPL_(expr, MYDOCKER_CONCAT_(mydocker_try_, __COUNTER__))
#define MYDOCKER_TRY_IMPL_(expr, var) \
  ({                                  \
    auto&& var = (expr);              \
    if (!var.has_value()) {           \
      return std::move(var).error();  \
    }                                 \
    std::move(var).value();           \
  })

// MYDOCKER_TRY_CTX(expr, "context {}", args...): the same, wrapping the error with context.
#define MYDOCKER_TRY_CTX(expr, ...) \
  MYDOCKER_TRY_CTX_IMPL_(expr, MYDOCKER_CONCAT_(mydocker_try_, __COUNTER__), __VA_ARGS__)
#define MYDOCKER_TRY_CTX_IMPL_(expr, var, ...)                      \
  ({                                                                \
    auto&& var = (expr);                                            \
    if (!var.has_value()) {                                         \
      return std::move(var).error().wrap(fmt::format(__VA_ARGS__)); \
    }                                                               \
    std::move(var).value();                                         \
  })

// Invariants only (never what the environment can cause): aborts with a message, in release too.
#define MYDOCKER_CHECK(cond)                                     \
  do {                                                           \
    if (!(cond)) {                                               \
      ::mydocker::base::check_failed(#cond, __FILE__, __LINE__); \
    }                                                            \
  } while (0)

namespace mydocker::base {
[[noreturn]] void check_failed(const char* cond, const char* file, int line);
}  // namespace mydocker::base
