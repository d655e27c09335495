// SPDX-License-Identifier: Apache-2.0
#include "runtime/base/error.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace mydocker::base {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::InvalidArgument:
      return "invalid argument";
    case ErrorCode::NotFound:
      return "not found";
    case ErrorCode::AlreadyExists:
      return "already exists";
    case ErrorCode::Conflict:
      return "conflict";
    case ErrorCode::FailedPrecondition:
      return "failed precondition";
    case ErrorCode::PermissionDenied:
      return "permission denied";
    case ErrorCode::Unauthorized:
      return "unauthorized";
    case ErrorCode::Unavailable:
      return "unavailable";
    case ErrorCode::NotImplemented:
      return "not implemented";
    case ErrorCode::NotModified:
      return "not modified";
    case ErrorCode::Cancelled:
      return "cancelled";
    case ErrorCode::Internal:
      return "internal";
  }
  return "unknown";
}

ErrorCode code_from_errno(int err) {
  switch (err) {
    case EPERM:
    case EACCES:
    case EROFS:
      return ErrorCode::PermissionDenied;
    case ENOENT:
    case ESRCH:
    case ENODEV:
      return ErrorCode::NotFound;
    case EEXIST:
      return ErrorCode::AlreadyExists;
    case EINVAL:
    case ENAMETOOLONG:
    case ELOOP:
    case ENOTDIR:
    case EISDIR:
    case EXDEV:
      return ErrorCode::InvalidArgument;
    case EBUSY:
      return ErrorCode::Conflict;
    case ENOSYS:
    case EOPNOTSUPP:
      return ErrorCode::NotImplemented;
    case EAGAIN:
    case ECONNREFUSED:
    case ENOSPC:
    case ENOMEM:
      return ErrorCode::Unavailable;
    case ECANCELED:
    case EINTR:
      return ErrorCode::Cancelled;
    default:
      return ErrorCode::Internal;
  }
}

std::string Error::to_string() const {
  if (sys_errno_ == 0) {
    return message_;
  }
  return fmt::format("{}: {}", message_, std::strerror(sys_errno_));
}

Error& Error::wrap(std::string_view context) & {
  message_ = fmt::format("{}: {}", context, message_);
  return *this;
}

Error&& Error::wrap(std::string_view context) && {
  message_ = fmt::format("{}: {}", context, message_);
  return std::move(*this);
}

void check_failed(const char* cond, const char* file, int line) {
  std::fprintf(stderr, "MYDOCKER_CHECK failed: %s at %s:%d\n", cond, file, line);
  std::abort();
}

}  // namespace mydocker::base
