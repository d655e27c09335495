// SPDX-License-Identifier: Apache-2.0
#include "api/client/stream.h"

#include <algorithm>

namespace mydocker::api::client {

base::Result<void> StreamDemuxer::feed(std::string_view data) {
  while (!data.empty()) {
    if (left_ == 0) {
      size_t take = std::min(data.size(), header_.size() - header_len_);
      for (size_t i = 0; i < take; ++i) {
        header_[header_len_ + i] = static_cast<uint8_t>(data[i]);
      }
      header_len_ += take;
      data.remove_prefix(take);
      if (header_len_ < header_.size()) {
        return base::ok();
      }
      if (header_[0] > 3 || header_[1] != 0 || header_[2] != 0 || header_[3] != 0) {
        return base::make_error(base::ErrorCode::InvalidArgument,
                                "unexpected stream frame header byte {:#04x}", header_[0]);
      }
      kind_ = static_cast<StreamKind>(header_[0]);
      left_ = (uint32_t{header_[4]} << 24) | (uint32_t{header_[5]} << 16) |
              (uint32_t{header_[6]} << 8) | uint32_t{header_[7]};
      header_len_ = 0;
      continue;
    }
    size_t take = std::min<size_t>(data.size(), left_);
    sink_(kind_, data.substr(0, take));
    data.remove_prefix(take);
    left_ -= static_cast<uint32_t>(take);
  }
  return base::ok();
}

}  // namespace mydocker::api::client
