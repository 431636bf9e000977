// SPDX-License-Identifier: Apache-2.0
#include "pkg/kube/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "pkg/crypto/crypto.h"
#include "tests/support/support.h"

namespace rebootd::kube {
namespace {

void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

cloud::Getenv Env(std::map<std::string, std::string> vars) {
  return [vars](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

constexpr const char* kKubeconfig = R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: c1
  cluster:
    server: https://10.0.0.1:6443/
    certificate-authority: ca.crt
- name: c2
  cluster:
    server: https://10.0.0.2:6443
    certificate-authority-data: Q0FEQVRB
    insecure-skip-tls-verify: true
contexts:
- name: dev
  context: {cluster: c1, user: u1, namespace: ops}
- name: prod
  context: {cluster: c2, user: u2}
- name: broken
  context: {cluster: nope, user: u1}
- name: plugin
  context: {cluster: c1, user: u3}
users:
- name: u1
  user:
    token: abc
- name: u2
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
- name: u3
  user:
    exec: {command: aws}
)";

TEST(KubeconfigTest, CurrentContextWithRelativeCaFileAndToken) {
  auto c = ParseKubeconfig(kKubeconfig, "/etc/kube");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->server, "https://10.0.0.1:6443");
  EXPECT_EQ(c->ca_file, "/etc/kube/ca.crt");
  EXPECT_EQ(c->token, "abc");
  EXPECT_EQ(c->namespace_, "ops");
  EXPECT_FALSE(c->insecure_skip_tls_verify);
  EXPECT_EQ(c->Describe().find("abc"), std::string::npos);  // never the token
}

TEST(KubeconfigTest, ExplicitContextWithDataFields) {
  auto c = ParseKubeconfig(kKubeconfig, "/etc/kube", "prod");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->ca_pem, "CADATA");
  EXPECT_EQ(c->client_cert_pem, "CERT");
  EXPECT_EQ(c->client_key_pem, "KEY");
  EXPECT_TRUE(c->insecure_skip_tls_verify);
  auto o = TransportOptionsFor(*c);
  EXPECT_FALSE(o.verify_certificates);
  EXPECT_EQ(o.client_cert_pem, "CERT");
}

TEST(KubeconfigTest, ClearErrors) {
  auto missing = ParseKubeconfig(kKubeconfig, "", "nope");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("context \"nope\" not found"), std::string::npos);
  auto broken = ParseKubeconfig(kKubeconfig, "", "broken");
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().message.find("cluster \"nope\""), std::string::npos);
  auto plugin = ParseKubeconfig(kKubeconfig, "", "plugin");
  ASSERT_FALSE(plugin);
  EXPECT_NE(plugin.error().message.find("exec"), std::string::npos);
  auto yaml = ParseKubeconfig("clusters: [", "");
  ASSERT_FALSE(yaml);
  EXPECT_EQ(yaml.error().code, ErrorCode::kInvalidArgument);
  auto no_ctx = ParseKubeconfig("apiVersion: v1\nkind: Config\n", "");
  ASSERT_FALSE(no_ctx);
  EXPECT_NE(no_ctx.error().message.find("current-context"), std::string::npos);
}

TEST(KubeconfigTest, FlagThenKubeconfigEnvThenInClusterThenHome) {
  std::string dir = testing::MakeTempDir("kubeconfig");
  Write(dir + "/a", kKubeconfig);
  auto from_flag = ResolveConfig(dir + "/a", Env({}));
  ASSERT_TRUE(from_flag) << from_flag.error().message;
  EXPECT_NE(from_flag->origin.find(dir + "/a"), std::string::npos);
  EXPECT_EQ(from_flag->ca_file, dir + "/ca.crt");

  auto from_env = ResolveConfig("", Env({{"KUBECONFIG", dir + "/missing:" + dir + "/a"}}));
  ASSERT_TRUE(from_env) << from_env.error().message;
  EXPECT_EQ(from_env->token, "abc");

  auto none = ResolveConfig("", Env({{"KUBECONFIG", dir + "/missing"}}));
  ASSERT_FALSE(none);

  std::filesystem::create_directories(dir + "/home/.kube");
  Write(dir + "/home/.kube/config", kKubeconfig);
  auto from_home = ResolveConfig("", Env({{"HOME", dir + "/home"}}));
  ASSERT_TRUE(from_home) << from_home.error().message;

  auto nothing = ResolveConfig("", Env({}));
  ASSERT_FALSE(nothing);
  EXPECT_NE(nothing.error().message.find("--kubeconfig"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(InClusterTest, ServiceAccountFilesAndEnvironment) {
  std::string sa = testing::MakeTempDir("sa");
  Write(sa + "/token", "t1\n");
  Write(sa + "/ca.crt", "pem");
  Write(sa + "/namespace", "rebootd-system");
  auto env = Env({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}});
  auto c = ResolveConfig("", env, sa);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->server, "https://10.96.0.1:443");
  EXPECT_EQ(c->token_file, sa + "/token");
  EXPECT_EQ(c->ca_file, sa + "/ca.crt");
  EXPECT_EQ(c->namespace_, "rebootd-system");
  EXPECT_EQ(c->origin, "in-cluster");

  auto outside = InClusterConfig(Env({}), sa);
  ASSERT_FALSE(outside);
  EXPECT_EQ(outside.error().code, ErrorCode::kFailedPrecondition);
  std::filesystem::remove_all(sa);
}

TEST(TokenSourceTest, RereadsTheFileWhenItChanges) {
  std::string dir = testing::MakeTempDir("token");
  Write(dir + "/token", "first\n");
  Config c;
  c.token_file = dir + "/token";
  ManualClock clock;
  TokenSource tokens(c, clock, std::chrono::seconds(60));
  auto t = tokens.Token();
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, "first");
  Write(dir + "/token", "second-rotated\n");  // a different size: noticed at once
  EXPECT_EQ(*tokens.Token(), "second-rotated");
  Write(dir + "/token", "third-rotated!\n");  // same size: noticed after `recheck` at the latest
  clock.Advance(std::chrono::seconds(61));
  EXPECT_EQ(*tokens.Token(), "third-rotated!");
  std::filesystem::remove(dir + "/token");  // mid-rotation: keep the last good token
  EXPECT_EQ(*tokens.Token(), "third-rotated!");
  std::filesystem::remove_all(dir);

  Config missing;
  missing.token_file = "/nonexistent/token";
  TokenSource none(missing, clock);
  auto err = none.Token();
  ASSERT_FALSE(err);
  EXPECT_EQ(err.error().code, ErrorCode::kUnauthenticated);
}

}  // namespace
}  // namespace rebootd::kube
