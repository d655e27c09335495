// SPDX-License-Identifier: Apache-2.0
#include "engine/daemon/local_daemon_impl.h"

namespace mydocker::engine::detail {

// ---------------------------------------------------------------------------------------
// Create

base::Result<CreateResult> LocalDaemon::create(CreateRequest req) {
  if (stopping_) {
    return unavailable();
  }
  ContainerConfig config = std::move(req.config);
  HostConfig hc = std::move(req.host_config);
  MYDOCKER_TRY(validate_config(config));
  MYDOCKER_TRY(validate_host_config(hc));
  MYDOCKER_TRY(specgen::validate_network_mode(config, hc));
  std::string name;
  if (!req.name.empty()) {
    name = MYDOCKER_TRY(names::validate_name(req.name));
  }
  if (config.image.empty()) {
    return make_error(ErrorCode::InvalidArgument, "No such image: ");
  }
  image::ImageId image_id = MYDOCKER_TRY(images_->images().resolve(config.image));
  image::store::ImageRecord img = MYDOCKER_TRY(images_->images().get(image_id));
  const image::content::RunConfig* run = img.config.config ? &*img.config.config : nullptr;
  if (run != nullptr) {
    specgen::merge_image_config(config, *run);
  }
  specgen::Command cmd = MYDOCKER_TRY(specgen::resolve_command(config, nullptr));
  apply_create_defaults(hc, cgroup_v2_);
  if (hc.log_type.empty()) {
    hc.log_type = "json-file";
  }

  std::string id = names::generate_id();
  if (config.hostname.empty()) {
    config.hostname = id.substr(0, 12);
  }

  // Reserve the name (and the ID) first: two creates racing for one name get one conflict.
  {
    std::lock_guard lk(mu_);
    while (index_.ids.count(id) > 0) {
      id = names::generate_id();
    }
    if (name.empty()) {
      for (int attempt = 0; attempt < 16 && name.empty(); ++attempt) {
        std::string n = "/" + names::random_name(attempt);
        if (index_.names.count(n) == 0) {
          name = n;
        }
      }
      if (name.empty()) {
        return make_error(ErrorCode::Internal, "could not generate a free container name");
      }
    } else if (auto it = index_.names.find(name); it != index_.names.end()) {
      return make_error(ErrorCode::Conflict, "{}", names::name_conflict_message(name, it->second));
    }
    index_.names[name] = id;
  }
  base::ScopeExit release_name([&] {
    std::lock_guard lk(mu_);
    index_.names.erase(name);
  });

  std::string dir = container_dir(id);
  MYDOCKER_TRY(base::mkdir_all(dir, 0710));
  base::ScopeExit remove_dir([&] { (void)base::remove_all(dir); });

  auto top = image::Images::top_layer(img.config);
  MYDOCKER_TRY_CTX(snap_->prepare(id, top), "prepare the filesystem of container {}", id);
  base::ScopeExit remove_rw([&] { (void)snap_->remove(id); });

  bool host_net = hc.network_mode == "host";
  auto etc = MYDOCKER_TRY(fs::write_etc_files(dir, config.hostname, host_net));

  store::Record rec;
  ContainerInfo& info = rec.info;
  info.id = id;
  info.name = name;
  info.created = now_rfc3339();
  info.path = cmd.path;
  info.args = cmd.args;
  info.image_id = image_id.str();
  info.config = std::move(config);
  info.host_config = std::move(hc);
  info.driver = driver_;
  info.log_path = info.host_config.log_type == "json-file" ? dir + "/" + id + "-json.log" : "";
  info.hostname_path = etc.hostname;
  info.hosts_path = etc.hosts;
  info.resolv_conf_path = etc.resolv_conf;
  MYDOCKER_TRY(base::mkdir_all(rootfs_dir(id), 0755));
  MYDOCKER_TRY_CTX(store::save(dir, rec), "write the record of container {}", id);

  auto c = std::make_shared<Container>(std::move(rec));
  {
    std::lock_guard lk(mu_);
    index_.ids.insert(id);
    containers_[id] = c;
  }
  release_name.dismiss();
  remove_dir.dismiss();
  remove_rw.dismiss();
  {
    std::lock_guard lk(c->mu);
    emit_locked(*c, "create");
  }
  return CreateResult{id, {}};
}

}  // namespace mydocker::engine::detail
