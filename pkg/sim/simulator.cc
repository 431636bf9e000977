// SPDX-License-Identifier: Apache-2.0
#include "pkg/sim/simulator.h"

#include <cmath>

#include "pkg/http/url.h"
#include "pkg/sim/demo_credentials.h"
#include "pkg/sim/engine.h"

namespace rebootd::sim {
namespace {

Status CheckListen(const std::string& listen, bool allow_non_loopback) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "listen address \"" + listen + "\" must be HOST:PORT, e.g. 127.0.0.1:0");
  }
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (!allow_non_loopback && !http::IsLoopbackHost(host)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "refusing to listen on non-loopback address \"" + listen +
                         "\" (the simulator accepts demo keys; pass --allow-non-loopback to "
                         "override)");
  }
  return OkStatus();
}

KeyStore BuildKeys(cloud::Provider provider, const std::vector<cloud::Credentials>& explicit_keys,
                   const cloud::Getenv& getenv) {
  KeyStore keys;
  for (const auto& key : explicit_keys) keys.Add(key);
  if (getenv) {
    if (auto env = cloud::CredentialsFromEnv(provider, getenv)) keys.Add(*env);
  }
  if (keys.empty()) {
    keys.Add(provider == cloud::Provider::kTencent ? DemoTencentCredentials()
                                                   : DemoAliyunCredentials());
  }
  return keys;
}

}  // namespace

Result<std::unique_ptr<Simulator>> Simulator::Create(SimOptions options, Clock& clock) {
  REBOOTD_RETURN_IF_ERROR(CheckListen(options.listen, options.allow_non_loopback));
  if (!(options.reboot_seconds > 0) || !std::isfinite(options.reboot_seconds)) {
    return MakeError(ErrorCode::kInvalidArgument, "reboot seconds must be > 0");
  }
  if (!(options.reboot_jitter >= 0 && options.reboot_jitter < 1)) {
    return MakeError(ErrorCode::kInvalidArgument, "reboot jitter must be in [0, 1)");
  }
  if (options.tencent_instances < 0 || options.aliyun_instances < 0) {
    return MakeError(ErrorCode::kInvalidArgument, "instance counts must be >= 0");
  }
  if (options.aliyun_instances > 0 && options.aliyun_region.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "aliyun region must not be empty");
  }
  for (const auto& [key, limit] : options.rate_limits) {
    if (!IsKnownAction(key.substr(0, key.find('.')),
                       key.find('.') == std::string::npos ? "" : key.substr(key.find('.') + 1))) {
      std::string known;
      for (const auto& k : KnownActionKeys()) known += (known.empty() ? "" : ", ") + k;
      return MakeError(ErrorCode::kInvalidArgument,
                       "unknown rate-limit key \"" + key + "\" (one of " + known + ")");
    }
    if (limit < 0) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "rate limit for " + key + " must be >= 0 (0 disables it)");
    }
  }
  if (!(options.history_fraction >= 0 && options.history_fraction <= 1)) {
    return MakeError(ErrorCode::kInvalidArgument, "history fraction must be in [0, 1]");
  }
  Inventory inventory = options.inventory;
  // A separate stream, so that the history does not change the seeded faults and durations.
  SeededRandom history(options.seed ^ 0x5eedf00dULL);
  auto rebooted_before = [&] {
    return options.history_fraction > 0 && history.Uniform01() < options.history_fraction;
  };
  for (int i = 1; i <= options.tencent_instances; ++i) {
    TencentEntry e(GeneratedTencentId(static_cast<uint64_t>(i)));
    if (rebooted_before()) {
      e.latest_operation = "RebootInstances";
      e.latest_operation_state = "SUCCESS";
    }
    inventory.tencent.push_back(std::move(e));
  }
  for (int i = 1; i <= options.aliyun_instances; ++i) {
    AliyunEntry e(GeneratedAliyunId(static_cast<uint64_t>(i)), options.aliyun_region);
    if (rebooted_before()) e.start_time = clock.Now() - std::chrono::seconds(20);
    inventory.aliyun.push_back(std::move(e));
  }
  // Instances were "created" a day before the simulator started, one second apart.
  REBOOTD_ASSIGN_OR_RETURN(InstanceModel model,
                           InstanceModel::Build(inventory, clock.Now() - std::chrono::hours(24)));
  KeyStore tencent = BuildKeys(cloud::Provider::kTencent, options.tencent_keys, options.getenv);
  KeyStore aliyun = BuildKeys(cloud::Provider::kAliyun, options.aliyun_keys, options.getenv);
  auto engine = std::make_unique<Engine>(options, clock, std::move(model), std::move(tencent),
                                         std::move(aliyun));
  return std::unique_ptr<Simulator>(new Simulator(std::move(options), std::move(engine)));
}

Simulator::Simulator(SimOptions options, std::unique_ptr<Engine> engine)
    : options_(std::move(options)), engine_(std::move(engine)) {}

Simulator::~Simulator() { Stop(); }

Status Simulator::Start() {
  if (server_) return OkStatus();
  http::ServerOptions server_options;
  server_options.listen = options_.listen;
  auto server = std::make_unique<http::Server>(
      server_options, [this](const http::ServerRequest& request) { return Handle(request); });
  REBOOTD_RETURN_IF_ERROR(server->Start());
  server_ = std::move(server);
  return OkStatus();
}

void Simulator::Stop() {
  if (server_) {
    server_->Stop();
    server_.reset();
  }
}

std::string Simulator::BaseUrl() const { return server_ ? server_->BaseUrl() : ""; }
int Simulator::Port() const { return server_ ? server_->Port() : 0; }

http::ServerResponse Simulator::Handle(const http::ServerRequest& request) {
  http::ServerResponse response = engine_->Handle(request);
  // Like any origin server with a clock (RFC 9110 section 6.6.1): the simulator's own time.
  if (response.disposition == http::ServerResponse::Disposition::kRespond &&
      response.headers.Get("Date") == nullptr) {
    response.headers.Set("Date", http::FormatHttpDate(engine_->Now()));
  }
  return response;
}

Report Simulator::GetReport() const { return engine_->GetReport(); }
json::Value Simulator::InstancesJson() const { return engine_->InstancesJson(); }
void Simulator::SetFaults(std::vector<FaultRule> faults) { engine_->SetFaults(std::move(faults)); }
std::vector<FaultRule> Simulator::Faults() const { return engine_->Faults(); }
void Simulator::ResetReport() { engine_->ResetReport(); }

std::optional<std::string> Simulator::InstanceState(cloud::Provider provider,
                                                    const std::string& id) const {
  return engine_->InstanceState(provider, id);
}

int64_t Simulator::RebootCount(cloud::Provider provider, const std::string& id) const {
  return engine_->RebootCount(provider, id);
}

}  // namespace rebootd::sim
