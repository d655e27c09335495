// SPDX-License-Identifier: Apache-2.0
#include "api/client/stream.h"

#include <algorithm>

namespace mydocker::api::client {

base::Result<void> StreamDemuxer::feed(std::string_view data) {
  while (!data.empty()) {
    if (left_ == 0) {
      size_t take = std::min(data.size(), header_.size() - header_len_);
      for (size_t i = 0; i < take; ++i) {
        header_[header_len_ + i] = data[i];
      }
      header_len_ += take;
      data.remove_prefix(take);
      if (header_len_ < header_.size()) {
        return base::ok();
      }
      wire::FrameHeader h{};
      if (!wire::parse_frame_header(std::string_view(header_.data(), header_.size()), h)) {
        return base::make_error(base::ErrorCode::InvalidArgument,
                                "unexpected stream frame header byte {:#04x}",
                                static_cast<uint8_t>(header_[0]));
      }
      kind_ = h.stream;
      left_ = h.length;
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
