// SPDX-License-Identifier: Apache-2.0
// `mydocker login [-u USER] [-p PASS | --password-stdin] [SERVER]` and `mydocker logout
// [SERVER]`, as the docker CLI does them: the credentials are checked by the daemon (POST
// /auth) and kept in the docker config file (api/client/auth.h), which the real docker CLI
// shares. Credential helpers are not supported; a file naming one for the server is an error
// here and a warning (no credentials) for pull and push.
#include <termios.h>
#include <unistd.h>

#include <iostream>
#include <memory>

#include "api/client/auth.h"
#include "cmd/mydocker/cli.h"
#include "runtime/base/strings.h"

namespace mydocker::cli {

namespace {

using api::client::AuthConfig;
using api::client::ConfigFile;

struct LoginFlags {
  std::string server;
  std::string user;
  std::string password;
  bool password_stdin = false;
};

base::Result<ConfigFile> load_config() {
  std::string path =
      MYDOCKER_TRY(api::client::config_file_path([](const char* n) { return get_env(n); }));
  return ConfigFile::load(std::move(path));
}

base::Error helper_error(const ConfigFile& cfg, const std::string& key, const std::string& helper) {
  return base::make_error(base::ErrorCode::NotImplemented,
                          "{} names the credential helper `{}` for {}: credential helpers are "
                          "not supported by mydocker (remove credsStore/credHelpers to keep "
                          "credentials in the file)",
                          cfg.path(), helper, key);
}

// One line from stdin, without its line ending ("" at EOF).
std::string read_line() {
  std::string line;
  std::getline(std::cin, line);
  if (!line.empty() && line.back() == '\r') {
    line.pop_back();
  }
  return line;
}

// Prints `prompt` and reads a line from the terminal on stdin, not echoed. Echo is off before
// the prompt shows (as docker does), so nothing typed after it is echoed or flushed.
std::string read_password(const std::string& prompt) {
  struct termios saved {};
  bool restore = ::tcgetattr(STDIN_FILENO, &saved) == 0;
  if (restore) {
    struct termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  write_out(prompt);
  std::string line = read_line();
  if (restore) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
  }
  write_out("\n");
  return line;
}

// docker's ConfigureAuth: prompts on a terminal for what the flags did not give.
base::Result<void> prompt_credentials(LoginFlags& f, const std::string& stored_user) {
  if (!f.user.empty() && !f.password.empty()) {
    return base::ok();
  }
  if (!is_terminal(STDIN_FILENO)) {
    return base::make_error(base::ErrorCode::InvalidArgument,
                            "Error: Cannot perform an interactive login from a non TTY device");
  }
  if (f.user.empty()) {
    write_out(stored_user.empty() ? "Username: " : "Username (" + stored_user + "): ");
    f.user = std::string(base::trim(read_line()));
    if (f.user.empty()) {
      f.user = stored_user;
    }
  }
  if (f.user.empty()) {
    return base::make_error(base::ErrorCode::InvalidArgument, "Error: Non-null Username Required");
  }
  if (f.password.empty()) {
    f.password = read_password("Password: ");
    if (f.password.empty()) {
      return base::make_error(base::ErrorCode::InvalidArgument, "Error: Password Required");
    }
  }
  return base::ok();
}

// POST /auth; the daemon's Status ("Login Succeeded").
base::Result<std::string> check_login(const api::client::Client& client, const AuthConfig& a) {
  api::client::Json body = api::client::Json::object();
  body["username"] = a.username;
  body["password"] = a.password;
  body["serveraddress"] = a.serveraddress;
  api::client::Json r = MYDOCKER_TRY(client.post_json("/auth", {}, body));
  std::string status = r.is_object() ? r.value("Status", "") : "";
  return status.empty() ? std::string("Login Succeeded") : status;
}

int run_login(const Globals& g, LoginFlags f) {
  if (f.password_stdin) {
    if (!f.password.empty()) {
      write_err("conflicting options: cannot specify both --password and --password-stdin\n");
      return 1;
    }
    if (f.user.empty()) {
      write_err("the --password-stdin option requires --username to be set\n");
      return 1;
    }
  }
  if (!f.password.empty()) {
    write_err("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
  }
  if (f.password_stdin) {
    std::string all((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    if (all.ends_with("\n")) {
      all.pop_back();
    }
    if (all.ends_with("\r")) {
      all.pop_back();
    }
    f.password = std::move(all);
  }
  std::string key = api::client::auth_key_for_server(f.server);
  auto cfg = load_config();
  if (!cfg) {
    return report(cfg.error());
  }
  if (std::string helper = cfg->helper_for(key); !helper.empty()) {
    return report(helper_error(*cfg, key, helper));
  }
  auto client = make_client(g);
  if (!client) {
    return report(client.error());
  }
  std::optional<AuthConfig> stored = cfg->get(key);
  std::optional<std::string> status;
  bool stored_ok = false;
  AuthConfig a;
  a.serveraddress = key;
  // Without -u and -p, docker first tries the stored credentials.
  if (f.user.empty() && f.password.empty() && stored && !stored->username.empty() &&
      !stored->password.empty()) {
    write_err("Authenticating with existing credentials... [Username: " + stored->username + "]\n");
    a.username = stored->username;
    a.password = stored->password;
    auto r = check_login(*client, a);
    if (r) {
      status = *r;
      stored_ok = true;
    } else {
      write_err("Login did not succeed, error: " + r.error().to_string() + "\n");
    }
  }
  if (!status) {
    if (auto r = prompt_credentials(f, stored ? stored->username : ""); !r) {
      return report(r.error());
    }
    a.username = f.user;
    a.password = f.password;
    auto r = check_login(*client, a);
    if (!r) {
      return report(r.error());
    }
    status = *r;
  }
  if (stored_ok) {
    // docker 28 neither stores again nor warns; it points at logout instead.
    write_err(
        "\n Info -> To login with a different account, run 'mydocker logout' followed by "
        "'mydocker login'\n\n\n");
    write_out(*status + "\n");
    return 0;
  }
  cfg->set(key, a);
  if (auto r = cfg->save(); !r) {
    return report(base::make_error(base::ErrorCode::Internal, "Error saving credentials: {}",
                                   r.error().to_string()));
  }
  write_err(fmt::format(
      "\nWARNING! Your credentials are stored unencrypted in '{}'.\nConfigure a credential "
      "helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n\n",
      cfg->path()));
  write_out(*status + "\n");
  return 0;
}

int run_logout(const std::string& server) {
  auto cfg = load_config();
  if (!cfg) {
    return report(cfg.error());
  }
  std::string key = api::client::auth_key_for_server(server);
  std::string shown = key;
  std::vector<std::string> candidates = {key};
  if (key != api::client::kIndexServer) {
    // docker also removes entries saved with a scheme or as typed.
    shown = api::client::convert_to_hostname(server);
    candidates = {server, shown, "http://" + shown, "https://" + shown};
  }
  std::vector<std::string> present = cfg->present(candidates);
  if (std::string helper = cfg->helper_for(key); !helper.empty()) {
    return report(helper_error(*cfg, key, helper));
  }
  // docker 28 prints this also when there was nothing to remove (the credentials may have
  // been in a helper it cannot list).
  write_out("Removing login credentials for " + shown + "\n");
  if (present.empty()) {
    return 0;
  }
  for (const auto& k : present) {
    cfg->erase(k);
  }
  if (auto r = cfg->save(); !r) {
    write_err("WARNING: could not erase credentials: " + r.error().to_string() + "\n");
  }
  return 0;
}

}  // namespace

std::string registry_auth_for(const image::reference::Reference& ref) {
  api::client::AuthConfig none;
  auto cfg = load_config();
  if (!cfg) {
    write_err("WARNING: Error loading config file: " + cfg.error().to_string() + "\n");
    return api::client::encode_registry_auth(none);
  }
  std::string key = api::client::auth_key_for_domain(ref.domain());
  if (std::string helper = cfg->helper_for(key); !helper.empty()) {
    write_err("WARNING: " + helper_error(*cfg, key, helper).message() +
              "; going on without credentials\n");
    return api::client::encode_registry_auth(none);
  }
  auto a = cfg->get(key);
  return api::client::encode_registry_auth(a ? *a : none);
}

void register_login(CLI::App& parent, Registry& reg) {
  auto* sub = parent.add_subcommand("login", "Log in to a registry");
  auto f = std::make_shared<LoginFlags>();
  sub->add_option("SERVER", f->server, "Registry server (default: Docker Hub)");
  sub->add_option("-u,--username", f->user, "Username");
  sub->add_option("-p,--password", f->password, "Password or Personal Access Token (PAT)");
  sub->add_flag("--password-stdin", f->password_stdin,
                "Take the Password or Personal Access Token (PAT) from stdin");
  Globals& g = reg.globals();
  reg.add(sub, [f, &g]() -> int { return run_login(g, *f); });
}

void register_logout(CLI::App& parent, Registry& reg) {
  auto* sub = parent.add_subcommand("logout", "Log out from a registry");
  auto server = std::make_shared<std::string>();
  sub->add_option("SERVER", *server, "Registry server (default: Docker Hub)");
  reg.add(sub, [server]() -> int { return run_logout(*server); });
}

}  // namespace mydocker::cli
