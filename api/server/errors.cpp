// SPDX-License-Identifier: Apache-2.0
#include "api/server/errors.h"

namespace mydocker::api::server {

int http_status(base::ErrorCode code) {
  using base::ErrorCode;
  switch (code) {
    case ErrorCode::InvalidArgument:
      return 400;
    case ErrorCode::Unauthorized:
      return 401;
    case ErrorCode::PermissionDenied:
      return 403;  // moby's errdefs.Forbidden
    case ErrorCode::NotFound:
      return 404;
    case ErrorCode::Conflict:
    case ErrorCode::AlreadyExists:  // containerd's AlreadyExists is moby's Conflict
      return 409;
    case ErrorCode::FailedPrecondition:
      return 412;  // moby's statusCodeFromContainerdError
    case ErrorCode::NotModified:
      return 304;
    case ErrorCode::NotImplemented:
      return 501;
    case ErrorCode::Unavailable:
      return 503;
    case ErrorCode::Cancelled:  // moby groups cancelled with system errors
    case ErrorCode::Internal:
      return 500;
  }
  return 500;
}

}  // namespace mydocker::api::server
