// SPDX-License-Identifier: Apache-2.0
#include "pkg/kube/config.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <utility>

#include <yaml-cpp/yaml.h>

#include "pkg/crypto/crypto.h"

namespace rebootd::kube {
namespace {

Result<std::string> ReadFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string(what) + " " + path + " cannot be read");
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string Trim(std::string s) {
  const char* ws = " \t\r\n";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return {};
  size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

std::string Resolve(const std::string& base_dir, const std::string& path) {
  if (path.empty() || path.front() == '/' || base_dir.empty()) return path;
  return base_dir + "/" + path;
}

std::string Str(const YAML::Node& node, const char* key) {
  YAML::Node v = node[key];
  if (!v.IsDefined() || v.IsNull() || !v.IsScalar()) return {};
  return v.Scalar();
}

// Finds the entry named `name` in a kubeconfig list (clusters, users, contexts) and returns its
// payload map (`field`).
YAML::Node FindNamed(const YAML::Node& root, const char* list, const std::string& name,
                     const char* field) {
  YAML::Node items = root[list];
  if (!items.IsDefined() || !items.IsSequence()) return YAML::Node();
  for (const auto& item : items) {
    if (item.IsMap() && Str(item, "name") == name) return item[field];
  }
  return YAML::Node();
}

Result<std::string> DecodeData(const std::string& text, const std::string& what) {
  std::string compact;
  for (char c : text) {
    if (c != '\n' && c != '\r' && c != ' ' && c != '\t') compact.push_back(c);
  }
  auto decoded = crypto::Base64Decode(compact);
  if (!decoded) return MakeError(ErrorCode::kInvalidArgument, what + " is not valid base64");
  return *decoded;
}

Result<Config> ParseKubeconfigImpl(std::string_view yaml, const std::string& base_dir,
                                   const std::string& context_override) {
  YAML::Node root = YAML::Load(std::string(yaml));
  if (!root.IsMap()) return MakeError(ErrorCode::kInvalidArgument, "kubeconfig is not a map");
  std::string context_name =
      context_override.empty() ? Str(root, "current-context") : context_override;
  if (context_name.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "kubeconfig has no current-context (set one with kubectl config "
                     "use-context)");
  }
  YAML::Node context = FindNamed(root, "contexts", context_name, "context");
  if (!context.IsDefined() || !context.IsMap()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "kubeconfig context \"" + context_name + "\" not found");
  }
  std::string cluster_name = Str(context, "cluster");
  std::string user_name = Str(context, "user");
  YAML::Node cluster = FindNamed(root, "clusters", cluster_name, "cluster");
  if (!cluster.IsDefined() || !cluster.IsMap()) {
    return MakeError(ErrorCode::kInvalidArgument, "kubeconfig context \"" + context_name +
                                                      "\" names cluster \"" + cluster_name +
                                                      "\", which is not defined");
  }
  Config c;
  c.origin = "context " + context_name;
  c.namespace_ = Str(context, "namespace");
  c.server = Str(cluster, "server");
  while (!c.server.empty() && c.server.back() == '/') c.server.pop_back();
  if (c.server.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "kubeconfig cluster \"" + cluster_name + "\" has no server");
  }
  if (c.server.rfind("https://", 0) != 0 && c.server.rfind("http://", 0) != 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "kubeconfig cluster \"" + cluster_name + "\": server must be an http(s) URL");
  }
  c.insecure_skip_tls_verify = Str(cluster, "insecure-skip-tls-verify") == "true";
  c.ca_file = Resolve(base_dir, Str(cluster, "certificate-authority"));
  if (std::string data = Str(cluster, "certificate-authority-data"); !data.empty()) {
    REBOOTD_ASSIGN_OR_RETURN(c.ca_pem, DecodeData(data, "certificate-authority-data of cluster \"" +
                                                            cluster_name + "\""));
  }
  if (!user_name.empty()) {
    YAML::Node user = FindNamed(root, "users", user_name, "user");
    if (!user.IsDefined() || !user.IsMap()) {
      // kubectl treats an unknown user as "no credentials"; so do we.
      user = YAML::Node(YAML::NodeType::Map);
    }
    if (user["exec"].IsDefined() || user["auth-provider"].IsDefined()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "kubeconfig user \"" + user_name +
                           "\" uses an exec or auth-provider plugin, which rebootd does not "
                           "support; use a token, tokenFile or client certificate");
    }
    c.token = Str(user, "token");
    c.token_file = Resolve(base_dir, Str(user, "tokenFile"));
    c.client_cert_file = Resolve(base_dir, Str(user, "client-certificate"));
    c.client_key_file = Resolve(base_dir, Str(user, "client-key"));
    const std::string who = "user \"" + user_name + "\"";
    if (std::string d = Str(user, "client-certificate-data"); !d.empty()) {
      REBOOTD_ASSIGN_OR_RETURN(c.client_cert_pem,
                               DecodeData(d, "client-certificate-data of " + who));
    }
    if (std::string d = Str(user, "client-key-data"); !d.empty()) {
      REBOOTD_ASSIGN_OR_RETURN(c.client_key_pem, DecodeData(d, "client-key-data of " + who));
    }
    if (c.client_cert_file.empty() != c.client_key_file.empty() ||
        c.client_cert_pem.empty() != c.client_key_pem.empty()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "kubeconfig " + who +
                           ": a client certificate needs its key (and the key "
                           "its certificate)");
    }
    if (!Str(user, "username").empty() && c.token.empty() && c.token_file.empty()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "kubeconfig " + who +
                           ": basic authentication is not supported; use a token or certificate");
    }
  }
  return c;
}

}  // namespace

std::string Config::Describe() const {
  std::string auth = "none";
  if (!token_file.empty()) {
    auth = "token-file";
  } else if (!token.empty()) {
    auth = "token";
  } else if (!client_cert_file.empty() || !client_cert_pem.empty()) {
    auth = "client-cert";
  }
  return "server=" + server + " auth=" + auth + " origin=\"" + origin + "\"" +
         (insecure_skip_tls_verify ? " insecure-skip-tls-verify" : "");
}

Result<Config> ParseKubeconfig(std::string_view yaml, const std::string& base_dir,
                               const std::string& context) {
  try {
    return ParseKubeconfigImpl(yaml, base_dir, context);
  } catch (const YAML::Exception& e) {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string("kubeconfig is not valid YAML: ") + e.what());
  }
}

Result<Config> LoadKubeconfig(const std::string& path, const std::string& context) {
  REBOOTD_ASSIGN_OR_RETURN(std::string text, ReadFile(path, "kubeconfig"));
  std::string base_dir;
  if (size_t slash = path.rfind('/'); slash != std::string::npos) base_dir = path.substr(0, slash);
  if (base_dir.empty() && !path.empty() && path.front() == '/') base_dir = "/";
  auto c = ParseKubeconfig(text, base_dir, context);
  if (!c) return MakeError(ErrorCode::kInvalidArgument, path + ": " + c.error().message);
  c->origin = "kubeconfig " + path + " " + c->origin;
  return c;
}

Result<Config> InClusterConfig(const cloud::Getenv& getenv, const std::string& sa_dir) {
  auto host = getenv("KUBERNETES_SERVICE_HOST");
  auto port = getenv("KUBERNETES_SERVICE_PORT");
  if (!host || host->empty() || !port || port->empty()) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "not running in a cluster: KUBERNETES_SERVICE_HOST/PORT are not set");
  }
  Config c;
  std::string h = *host;
  if (h.find(':') != std::string::npos) h = "[" + h + "]";  // IPv6
  c.server = "https://" + h + ":" + *port;
  c.token_file = sa_dir + "/token";
  struct stat st {};
  if (::stat(c.token_file.c_str(), &st) != 0) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "in-cluster: service-account token " + c.token_file + " not found");
  }
  if (::stat((sa_dir + "/ca.crt").c_str(), &st) == 0) c.ca_file = sa_dir + "/ca.crt";
  if (auto ns = ReadFile(sa_dir + "/namespace", "namespace")) c.namespace_ = Trim(*ns);
  c.origin = "in-cluster";
  return c;
}

Result<Config> ResolveConfig(const std::string& flag_path, const cloud::Getenv& getenv,
                             const std::string& sa_dir) {
  if (!flag_path.empty()) return LoadKubeconfig(flag_path);
  if (auto env = getenv("KUBECONFIG"); env && !env->empty()) {
    std::string list = *env;
    size_t start = 0;
    while (start <= list.size()) {
      size_t end = list.find(':', start);
      if (end == std::string::npos) end = list.size();
      std::string path = list.substr(start, end - start);
      struct stat st {};
      if (!path.empty() && ::stat(path.c_str(), &st) == 0) return LoadKubeconfig(path);
      start = end + 1;
    }
    return MakeError(ErrorCode::kInvalidArgument,
                     "KUBECONFIG=" + list + ": none of these files exists");
  }
  if (auto host = getenv("KUBERNETES_SERVICE_HOST"); host && !host->empty()) {
    return InClusterConfig(getenv, sa_dir);
  }
  if (auto home = getenv("HOME"); home && !home->empty()) {
    std::string path = *home + "/.kube/config";
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) return LoadKubeconfig(path);
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   "no Kubernetes configuration: pass --kubeconfig, set KUBECONFIG, run in a "
                   "cluster, or create ~/.kube/config");
}

http::CpprestTransportOptions TransportOptionsFor(const Config& config) {
  http::CpprestTransportOptions o;
  o.ca_bundle_file = config.ca_file;
  o.ca_bundle_pem = config.ca_pem;
  o.verify_certificates = !config.insecure_skip_tls_verify;
  o.client_cert_file = config.client_cert_file;
  o.client_key_file = config.client_key_file;
  o.client_cert_pem = config.client_cert_pem;
  o.client_key_pem = config.client_key_pem;
  // An object is at most 1.5 MiB in etcd (3 MiB per request body); lists are paged 25 at a time
  // (KubeSourceOptions::page_size), so 25 of the largest objects fit with room to spare.
  o.max_body_bytes = 64 * 1024 * 1024;
  o.max_line_bytes = 8 * 1024 * 1024;
  return o;
}

TokenSource::TokenSource(Config config, Clock& clock, Duration recheck)
    : config_(std::move(config)), clock_(clock), recheck_(recheck) {}

Result<std::string> TokenSource::Token() {
  if (config_.token_file.empty()) return config_.token;
  std::lock_guard lock(mu_);
  SteadyTime now = clock_.SteadyNow();
  struct stat st {};
  if (::stat(config_.token_file.c_str(), &st) != 0) {
    if (!cached_.empty()) return cached_;  // a rotation in progress; keep the last good one
    return MakeError(ErrorCode::kUnauthenticated,
                     "bearer token file " + config_.token_file + " cannot be read");
  }
  int64_t mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  bool changed = mtime != mtime_ns_ || static_cast<int64_t>(st.st_size) != size_;
  bool stale = !checked_at_ || now - *checked_at_ >= recheck_;
  if (changed || stale || cached_.empty()) {
    auto text = ReadFile(config_.token_file, "bearer token file");
    if (!text) {
      if (!cached_.empty()) return cached_;
      return MakeError(ErrorCode::kUnauthenticated,
                       "bearer token file " + config_.token_file + " cannot be read");
    }
    cached_ = Trim(*text);
    mtime_ns_ = mtime;
    size_ = static_cast<int64_t>(st.st_size);
    checked_at_ = now;
  }
  return cached_;
}

void TokenSource::Invalidate() {
  std::lock_guard lock(mu_);
  checked_at_.reset();
  mtime_ns_ = -1;
}

}  // namespace rebootd::kube
