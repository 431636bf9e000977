// SPDX-License-Identifier: Apache-2.0
// The built `rebootd-cloudsim` binary as its users run it: keys from the environment variables
// rebootd reads, an inventory file, --fault and --rate-limit flags, and the /_sim/report control
// endpoint, exercised by our own clients over loopback. The child is started here and stopped by
// its pid with SIGTERM (it must exit 0).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>

#include "pkg/cloud/errors.h"
#include "pkg/json/json.h"
#include "tests/integration/harness.h"
#include "tests/support/support.h"

namespace rebootd::integration {
namespace {

using cloud::tencent::StopType;

const std::map<std::string, std::string>& ChildEnvironment() {
  static const std::map<std::string, std::string> kEnv = {
      {"TENCENTCLOUD_SECRET_ID", "AKIDbinarytest000000000000000000000001"},
      {"TENCENTCLOUD_SECRET_KEY", "binary-tencent-secret"},
      {"ALIBABA_CLOUD_ACCESS_KEY_ID", "STS.binarytest0001"},
      {"ALIBABA_CLOUD_ACCESS_KEY_SECRET", "binary-aliyun-secret"},
      {"ALIBABA_CLOUD_SECURITY_TOKEN", "binary-aliyun-sts-token"},
  };
  return kEnv;
}

cloud::Getenv ChildGetenv() {
  return [](const char* name) -> std::optional<std::string> {
    auto it = ChildEnvironment().find(name);
    if (it == ChildEnvironment().end()) return std::nullopt;
    return it->second;
  };
}

// One rebootd-cloudsim child process with a clean environment.
class CloudsimProcess {
 public:
  ~CloudsimProcess() { Stop(); }

  // Starts the binary and waits (at most 10 s) for its "listening on URL" line.
  void Start(const std::vector<std::string>& flags) {
    const std::string binary = REBOOTD_CLOUDSIM_BINARY;
    ASSERT_TRUE(std::filesystem::exists(binary)) << binary << " is not built";
    int out[2];
    ASSERT_EQ(pipe(out), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    std::vector<std::string> args = {binary};
    args.insert(args.end(), flags.begin(), flags.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env;
    for (const auto& [k, v] : ChildEnvironment()) env.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    const int rc = posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    ASSERT_EQ(rc, 0) << "posix_spawn failed";
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{out[0], POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char buffer[256];
      const ssize_t n = read(out[0], buffer, sizeof buffer);
      if (n <= 0) break;
      line.append(buffer, static_cast<size_t>(n));
    }
    close(out[0]);
    const std::string marker = "listening on ";
    const auto at = line.find(marker);
    ASSERT_NE(at, std::string::npos) << "no ready line, got: " << line;
    url_ = line.substr(at + marker.size());
    url_ = url_.substr(0, url_.find('\n'));
  }

  // SIGTERM to our child only; returns its exit status (-1 when it did not exit normally).
  int Stop() {
    if (pid_ <= 0) return exit_status_;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return exit_status_;
  }

  const std::string& url() const { return url_; }

 private:
  pid_t pid_ = -1;
  int exit_status_ = -1;
  std::string url_;
};

json::Value GetJson(http::Transport& transport, const std::string& url) {
  http::Request request;
  request.method = "GET";
  request.url = url;
  request.timeout = std::chrono::seconds(5);
  auto response = transport.Send(request);
  EXPECT_TRUE(response.has_value()) << (response ? "" : response.error().ToString());
  if (!response) return json::Value();
  EXPECT_EQ(response->status, 200) << response->body;
  auto parsed = json::Parse(response->body);
  EXPECT_TRUE(parsed.has_value()) << response->body;
  return parsed ? *parsed : json::Value();
}

const json::Value& At(const json::Value& v, std::initializer_list<std::string_view> path) {
  static const json::Value kNull;
  const json::Value* cur = &v;
  for (auto key : path) {
    cur = cur->is_object() ? cur->Find(key) : nullptr;
    if (cur == nullptr) return kNull;
  }
  return *cur;
}

TEST(CloudsimBinary, FlagsEnvironmentKeysFaultsRateLimitsAndReport) {
  const std::string dir = testing::MakeTempDir("rebootd-integration");
  const std::string inventory = dir + "/inventory.yaml";
  {
    std::ofstream out(inventory);
    out << "tencent:\n"
           "  - {id: ein-bin00001, state: RUNNING}\n"
           "  - {id: ein-bin00002, state: STOPPED}\n"
           "aliyun:\n"
           "  - {id: i-bin1, region: cn-hangzhou, state: Running}\n"
           "  - {id: i-bin2, region: cn-hangzhou, state: Running}\n";
  }
  CloudsimProcess cloudsim;
  ASSERT_NO_FATAL_FAILURE(
      cloudsim.Start({"--listen", "127.0.0.1:0", "--inventory", inventory, "--reboot-seconds", "30",
                      "--seed", "5", "--fault", "error-after:tencent.RebootInstances=1",
                      "--rate-limit", "aliyun.DescribeInstanceStatus=1", "--log-level", "warn"}));
  ASSERT_EQ(cloudsim.url().rfind("http://127.0.0.1:", 0), 0u) << cloudsim.url();

  http::CpprestTransport transport;
  SeededRandom random(3);
  Clock& clock = SystemClock::Instance();

  // Tencent, with the key pair the binary took from its environment.
  auto tencent_credentials = cloud::CredentialsFromEnv(cloud::Provider::kTencent, ChildGetenv());
  ASSERT_TRUE(tencent_credentials.has_value());
  auto ecm_options = FastEcmOptions();
  ecm_options.endpoint = cloudsim.url();
  auto ecm = cloud::tencent::EcmClient::Create(ecm_options, *tencent_credentials, transport, clock,
                                               random, nullptr);
  ASSERT_TRUE(ecm.has_value());
  auto reboot = (*ecm)->RebootInstances({"ein-bin00001"}, StopType::kSoft, false);
  ASSERT_FALSE(reboot.has_value());
  EXPECT_TRUE(reboot.error().ambiguous);  // error-after: the reboot happened anyway
  auto page = (*ecm)->DescribeInstances({{"instance-id", {"ein-bin00001", "ein-bin00002"}}}, 0, 10);
  ASSERT_TRUE(page.has_value()) << page.error().ToString();
  ASSERT_EQ(page->instances.size(), 2u);
  EXPECT_EQ(page->instances[0].state, "REBOOTING");
  EXPECT_EQ(page->instances[1].state, "STOPPED");

  // The demo pair is not accepted once keys come from the environment.
  auto demo =
      cloud::tencent::EcmClient::Create(ecm_options,
                                        cloud::Credentials{"AKIDREBOOTDDEMO0000000000000000000000",
                                                           "rebootd-demo-tencent-secret-key", ""},
                                        transport, clock, random, nullptr);
  ASSERT_TRUE(demo.has_value());
  auto refused = (*demo)->DescribeInstances({}, 0, 10);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().provider_code, "AuthFailure.SecretIdNotFound");

  // Aliyun (ACS3 with the STS token), rate limited to 1 DescribeInstanceStatus per second: the
  // second call is throttled and its retry, more than a second later, goes through.
  auto aliyun_credentials = cloud::CredentialsFromEnv(cloud::Provider::kAliyun, ChildGetenv());
  ASSERT_TRUE(aliyun_credentials.has_value());
  auto ecs_options = FastEcsOptions();
  ecs_options.endpoint = cloudsim.url();
  ecs_options.signature = cloud::aliyun::SignatureMethod::kAcs3;
  ecs_options.throttle_backoff_base = std::chrono::milliseconds(2400);  // waits 1.2 s .. 2.4 s
  ecs_options.backoff_cap = std::chrono::seconds(5);
  ecs_options.max_attempts = 2;
  auto ecs = cloud::aliyun::EcsClient::Create(ecs_options, *aliyun_credentials, transport, clock,
                                              random, nullptr);
  ASSERT_TRUE(ecs.has_value());
  ASSERT_TRUE((*ecs)->RebootInstance("i-bin1", false, false).has_value());
  for (int i = 0; i < 2; ++i) {
    auto statuses = (*ecs)->DescribeInstanceStatus({"i-bin1", "i-bin2"}, 1, 10);
    ASSERT_TRUE(statuses.has_value()) << statuses.error().ToString();
    ASSERT_EQ(statuses->statuses.size(), 2u);
    EXPECT_EQ(statuses->statuses[0].status, "Stopping");
    EXPECT_EQ(statuses->statuses[1].status, "Running");
  }

  // The report endpoint tells what happened.
  const json::Value report = GetJson(transport, cloudsim.url() + "/_sim/report");
  const json::Value& tencent = At(report, {"providers", "tencent"});
  EXPECT_EQ(At(tencent, {"reboots", "ein-bin00001"}).AsInt(), 1);
  EXPECT_EQ(At(tencent, {"actions", "RebootInstances", "faults", "error-after"}).AsInt(), 1);
  EXPECT_EQ(At(tencent, {"actions", "DescribeInstances", "auth_failures"}).AsInt(), 1);
  const json::Value& aliyun = At(report, {"providers", "aliyun"});
  EXPECT_EQ(At(aliyun, {"reboots", "i-bin1"}).AsInt(), 1);
  EXPECT_EQ(At(aliyun, {"actions", "DescribeInstanceStatus", "throttled"}).AsInt(), 1);
  EXPECT_EQ(At(aliyun, {"actions", "DescribeInstanceStatus", "ok"}).AsInt(), 2);
  EXPECT_EQ(At(aliyun, {"actions", "DescribeInstanceStatus", "rate_limit"}).AsInt(), 1);
  EXPECT_EQ(At(report, {"totals", "reboots"}).AsInt(), 2);
  EXPECT_EQ(At(report, {"totals", "instances_rebooted_more_than_once"}).AsInt(), 0);

  // The instances endpoint agrees.
  const json::Value instances = GetJson(transport, cloudsim.url() + "/_sim/instances");
  ASSERT_TRUE(At(instances, {"tencent"}).is_array());
  EXPECT_EQ(At(instances, {"tencent"}).AsArray().size(), 2u);

  EXPECT_EQ(cloudsim.Stop(), 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace rebootd::integration
