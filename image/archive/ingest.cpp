// SPDX-License-Identifier: Apache-2.0
#include <algorithm>

#include "image/archive/images.h"
#include "image/archive/images_internal.h"

namespace mydocker::image {

std::unique_ptr<Images::Ingest> Images::begin_ingest() {
  return std::unique_ptr<Ingest>(new Ingest(*this));
}

Images::Ingest::Ingest(Images& images)
    : images_(images), op_(std::make_unique<Op>(images.gc_mu_)) {}

Images::Ingest::~Ingest() {
  std::lock_guard lock(mu_);
  images_.finish_op(*op_);
}

void Images::Ingest::pin(const Digest& blob) {
  images_.pin(*op_, blob);
}

void Images::Ingest::hold(const ChainId& layer) {
  std::lock_guard lock(mu_);
  op_->held.push_back(layer);
}

base::Result<void> Images::Ingest::release(const ChainId& layer) {
  std::lock_guard lock(mu_);
  auto it = std::find(op_->held.begin(), op_->held.end(), layer);
  if (it == op_->held.end()) {
    return base::make_error(base::ErrorCode::NotFound, "layer `{}` is not held", layer.str());
  }
  op_->held.erase(it);
  MYDOCKER_TRY(images_.layers_->release(layer));
  return base::ok();
}

bool Images::Ingest::pair_verified(const Digest& blob, const DiffId& diff) const {
  return images_.pair_verified(blob, diff);
}

void Images::Ingest::remember_pair(const Digest& blob, const DiffId& diff) {
  images_.remember_pair(blob, diff);
}

base::Result<ImageId> Images::Ingest::commit(const std::string& config_bytes,
                                             const Digest& manifest,
                                             const std::optional<ChainId>& top,
                                             const std::vector<reference::Reference>& names,
                                             const std::optional<ImageId>& parent) {
  std::lock_guard lock(mu_);
  images_.pin(*op_, manifest);
  return images_.commit_image(*op_, config_bytes, manifest, top, names, parent);
}

}  // namespace mydocker::image
