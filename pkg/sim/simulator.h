// SPDX-License-Identifier: Apache-2.0
// Simulator: a local stand-in for Tencent Cloud ECM (2019-07-19, TC3-HMAC-SHA256) and Alibaba
// Cloud ECS (2014-05-26, RPC signature V1 and ACS3-HMAC-SHA256) on one loopback HTTP port
// (DESIGN.md §8). It verifies signatures with the real rules, answers with the real shapes, runs
// the reboot state machines lazily from an injected Clock, enforces the documented limits, injects
// seeded faults and records a report. Used by `rebootd-cloudsim` and `rebootd run --simulate`.
// All public methods are thread-safe; Handle() may be called from many threads at once.
//
// ---- Routing (one port, all APIs) ----
//  /_sim/...                                   control endpoints (see below)
//  header X-TC-Action, or Authorization "TC3-HMAC-SHA256 ..."        -> Tencent ECM
//  Authorization "ACS3-HMAC-SHA256 ..."                               -> Aliyun ECS, ACS3
//  parameters Action and SignatureMethod in the query or in a form-urlencoded POST body
//    (pop-core also sends x-acs-action headers on V1 calls)           -> Aliyun ECS, RPC V1
//  header x-acs-action (no ACS3 Authorization: answered IncompleteSignature/MissingParameter)
//                                                                     -> Aliyun ECS, ACS3
//  parameter Action alone (answered MissingParameter)                 -> Aliyun ECS, RPC V1
//  anything else                                                      -> HTTP 404, plain text
//
// ---- Control endpoints ----
//  GET  /_sim/healthz       "ok"
//  GET  /_sim/report        Report::ToJson()
//  GET  /_sim/instances     {"tencent":[{id,state,reboots,...}],"aliyun":[{id,region,status,...}]}
//  GET  /_sim/faults        {"faults":[{"kind","action","probability"}]}
//  POST /_sim/faults        replaces the fault rules (same JSON); 400 with a message when invalid
//  POST /_sim/reset-report  zeroes every counter and per-instance reboot count (state unchanged)
//
// ---- Error codes (provider code / HTTP status); messages never contain secrets ----
// Tencent (every answer is HTTP 200 with {"Response":{"Error":{Code,Message},"RequestId"}}):
//  Authorization missing or not "TC3-HMAC-SHA256 Credential=ID/DATE/SERVICE/tc3_request,
//    SignedHeaders=..., Signature=..." (also: SignedHeaders lacking content-type or host, or
//    naming a header that is absent)                        AuthFailure.InvalidAuthorization
//  X-TC-Timestamp missing / not an integer                  MissingParameter / InvalidParameter
//  SecretId unknown                                         AuthFailure.SecretIdNotFound
//  |X-TC-Timestamp - clock| > 300 s                         AuthFailure.SignatureExpire
//  scope service != "ecm" (the service is never taken from the Host header, which may be
//    127.0.0.1:PORT), scope date != UTC date of the timestamp, or signature mismatch
//                                                           AuthFailure.SignatureFailure
//  X-TC-Token differs from the key's token, missing for a key with a token, or sent for a key
//    without one                                            AuthFailure.TokenFailure
//  X-TC-Version != 2019-07-19                               NoSuchVersion
//  unknown X-TC-Action                                      InvalidAction
//  method other than POST                                   UnsupportedProtocol (GET is not
//                                                           modelled by the simulator)
//  Content-Type not application/json[; charset=...]        InvalidParameter
//  body not a JSON object                                   InvalidParameter
//  a parameter the action does not know                     UnknownParameter
//  more than 20 accepted calls of the action in (t-1s, t]   RequestLimitExceeded
//  RebootInstances: InstanceIdSet missing                   MissingParameter
//    empty, duplicate ID, bad StopType                      InvalidParameterValue
//    wrong JSON type (InstanceIdSet, StopType, ForceReboot) InvalidParameter
//    more than 100 IDs InvalidParameterValue.ParameterValueTooLarge then, all-or-nothing, the first
//    class that applies, naming every offending ID in the message ("The instance `ein-a`, `ein-b`
//    does not exist."):
//      ID not "ein-" + 1..32 [a-z0-9]                       InvalidParameterValue.InvalidInstanceID
//      ID unknown                                           ResourceNotFound.InstanceNotExist
//      instance REBOOTING OperationDenied.InstanceOperationInProgress instance STOPPED
//      ResourceUnavailable.InstanceNotRunning
//  DescribeInstances: Offset < 0, Limit outside 1..100      InvalidParameterValue.InvaildPageParam
//  (sic)
//    filter name other than instance-id / instance-state, empty Values, or an unknown state
//                                                           InvalidParameterValue.InvalidFilter
//    more than 5 Values in one filter (the limit is applied per filter)
//                                                           InvalidParameterValue.ParameterValueTooLarge
//    malformed instance-id value                            InvalidParameterValue.InvalidInstanceID
//    unknown IDs are simply not listed; order is the inventory order (Order* params ignored).
// Aliyun (JSON {"RequestId","HostId","Code","Message","Recommend"} or, for RPC calls without
// Format=JSON, XML <Error><RequestId/><HostId/><Code/><Message/><Recommend/></Error>):
//  a required common parameter / ACS3 header missing        400 MissingParameter
//  SignatureMethod != HMAC-SHA1 or SignatureVersion != 1.0; ACS3 Authorization malformed or a
//    required header (host, x-acs-action, x-acs-version, x-acs-date, x-acs-signature-nonce,
//    x-acs-content-sha256, x-acs-security-token when sent) not signed
//                                                           400 IncompleteSignature
//  Timestamp / x-acs-date not YYYY-MM-DDThh:mm:ssZ          400 InvalidTimeStamp.Format
//  AccessKeyId unknown                                      400 InvalidAccessKeyId.NotFound
//  |timestamp - clock| > 15 min                             400 InvalidTimeStamp.Expired
//  signature mismatch, or x-acs-content-sha256 != SHA-256(body)
//                                                           400 SignatureDoesNotMatch (the message
//                                                           carries the server string to sign,
//                                                           as the real service does; no secret)
//  SignatureNonce reused by the same key within 31 min      400 SignatureNonceUsed
//  key has a token but none was sent                        400 MissingSecurityToken
//  token differs, or sent for a key without one             400
//  InvalidSecurityToken.MismatchWithAccessKey Version != 2014-05-26 400 InvalidVersion unknown
//  Action                                           403 InvalidAction more than 20 accepted calls
//  of the action in (t-1s, t]   400 Throttling.User RebootInstance: InstanceId missing 400
//  MissingParameter
//    ForceStop / DryRun not true|false                      400 InvalidParameter
//    unknown ID, or RegionId given and different            404 InvalidInstanceId.NotFound
//    locked for security                                    403 InstanceLockedForSecurity
//    not Running (Stopped, Starting; Stopping unless ForceStop=true)
//                                                           403 IncorrectInstanceStatus
//    DryRun=true and the call would pass                    400 DryRunOperation
//  DescribeInstanceStatus: RegionId missing                 400 MissingParameter
//    more than 100 InstanceId.N, PageNumber < 1, PageSize outside 1..50, bad integers
//                                                           400 InvalidParameter
//    unknown IDs are omitted.
//  DescribeInstances: RegionId missing                      400 MissingParameter
//    InstanceIds not a JSON array of strings, or more than 100
//                                                           400 InvalidInstanceIds.Malformed
//    Status not Pending|Running|Starting|Stopping|Stopped, PageNumber < 1, PageSize outside
//    1..100, bad NextToken                                  400 InvalidParameter
//    MaxResults < 10 counts as 10, > 100 as 100 (documented behaviour); NextToken paging is
//    used when NextToken or MaxResults is given.
// Faults (seeded, per rule probability; drawn only for calls that passed authentication,
// version/action checks and throttling):
//  error-before / error-after   Tencent InternalError (HTTP 200) / Aliyun 500 InternalError
//  unavailable                  Tencent HTTP 503 with a plain-text body (like a load balancer) /
//                               Aliyun 503 ServiceUnavailable; no effect
//  throttle                     the action's throttling error; no effect
//  reset / reset-after          connection reset (RST), before / after the effect
//  hang / hang-after            no answer, before / after the effect
//  soft-stuck                   Aliyun RebootInstance with ForceStop=false only (drawn only for
//                               such calls that would start a reboot, independently of the kinds
//                               above): the call is accepted as usual but the instance stays
//                               Stopping (StartTime unchanged) until a ForceStop=true call
//                               arrives for it, which then reboots it normally. Models an OS that
//                               ignores the ACPI shutdown (what SoftFirst escalation is for).
//                               A rule may name instances ("soft-stuck:RebootInstance@i-a,i-b=1";
//                               JSON "instances") to apply only to them.
// "-after" kinds replace whatever answer the call produced (also a business error).
//
// ---- State machines (lazy, from Clock::SteadyNow(); no timers) ----
//  Tencent: RUNNING --RebootInstances--> REBOOTING --duration--> RUNNING, LatestOperation
//    "RebootInstances", LatestOperationState OPERATING then SUCCESS (ECM has no
//    LatestOperationRequestId). An instance may start with a history (the inventory's
//    latestOperation/State, or SimOptions::history_fraction).
//  Aliyun: Running --RebootInstance--> Stopping (first 20% of the duration) --> Starting -->
//    Running; StartTime becomes the wall time the instance runs again. StartTime is formatted
//    like the real API, "YYYY-MM-DDThh:mmZ" (minute precision), unless
//    SimOptions::start_time_with_seconds. ForceStop=true while Stopping (stuck or not) restarts
//    the reboot from that moment (still one reboot).
//  Duration: reboot_seconds x uniform[1 - jitter, 1 + jitter], from the seeded Random.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pkg/base/clock.h"
#include "pkg/base/result.h"
#include "pkg/cloud/credentials.h"
#include "pkg/http/server.h"
#include "pkg/json/json.h"
#include "pkg/sim/faults.h"
#include "pkg/sim/inventory.h"

namespace rebootd::sim {

// One line per handled API call, for the binary's debug log. Holds no secret.
struct CallRecord {
  std::string provider;  // "tencent" | "aliyun"
  std::string action;    // as sent ("" when absent)
  std::string code;      // "OK" or the error code
  int http_status = 0;   // 0 for reset / hang
  std::string fault;     // fault kind name, "" when none
};

struct SimOptions {
  // Where Start() listens. Non-loopback hosts are refused unless allow_non_loopback.
  std::string listen = "127.0.0.1:0";
  bool allow_non_loopback = false;

  // Instances: the inventory first, then `tencent_instances` / `aliyun_instances` generated
  // ones (GeneratedTencentId(1..N), GeneratedAliyunId(1..N) in `aliyun_region`, all running).
  Inventory inventory;
  int tencent_instances = 0;
  int aliyun_instances = 0;
  std::string aliyun_region = "cn-hangzhou";
  // The fraction of generated instances (a seeded choice) that were rebooted before the
  // simulator started, as on any real account: Tencent LatestOperation RebootInstances SUCCESS;
  // Aliyun StartTime 20 s before the start instead of the creation time. In [0, 1].
  double history_fraction = 0;

  double reboot_seconds = 3.0;  // > 0
  double reboot_jitter = 0.3;   // in [0, 1)
  uint64_t seed = 1;            // faults, reboot durations, request IDs
  bool start_time_with_seconds = false;

  std::vector<FaultRule> faults;
  // "provider.Action" -> calls per second; 0 disables the limit. Defaults: 20 for each of
  // tencent.RebootInstances, tencent.DescribeInstances, aliyun.RebootInstance,
  // aliyun.DescribeInstanceStatus, aliyun.DescribeInstances.
  std::map<std::string, int> rate_limits;

  // Accepted keys: `tencent_keys` / `aliyun_keys`, plus the provider's environment variables
  // (DESIGN.md §6) read through `getenv` when it is set. When a provider ends up with no key,
  // its demo pair (demo_credentials.h) is accepted.
  std::vector<cloud::Credentials> tencent_keys;
  std::vector<cloud::Credentials> aliyun_keys;
  cloud::Getenv getenv;  // unset: the environment is not read

  // Called (outside the simulator's lock) after each API call; may be empty.
  std::function<void(const CallRecord&)> on_call;
};

// Per (provider, action) counters. Actions the simulator does not know are pooled as "_other".
struct ActionReport {
  int64_t calls = 0;                       // every request routed to this action
  int64_t ok = 0;                          // answered with success
  int64_t throttled = 0;                   // rate-limit answers (not "throttle" faults)
  int64_t auth_failures = 0;               // signature / key / token / timestamp / nonce failures
  std::map<std::string, int64_t> errors;   // every error code answered, by code
  std::map<std::string, int64_t> faults;   // injected faults, by kind name
  int64_t max_calls_in_any_1s_window = 0;  // over the arrival times of all calls
  int rate_limit = 0;                      // configured limit (0 = none)
  // Reboot calls that took effect (instances started rebooting, or a stuck stop was forced).
  int64_t effects = 0;
  std::map<int, int64_t> batch_sizes;  // Tencent RebootInstances: IDs per effective call -> calls
};

// One Aliyun RebootInstance call for one InstanceId (calls that passed authentication and the
// version/action checks, throttled ones included).
struct AliyunRebootCall {
  bool force_stop = false;  // ForceStop=true (any case)
  bool dry_run = false;     // DryRun=true (any case)
  std::string code;         // "OK", the error code answered, "reset" or "hang"
  bool operator==(const AliyunRebootCall&) const = default;
};

struct ProviderReport {
  std::map<std::string, ActionReport> actions;
  // Aliyun only: RebootInstance calls by InstanceId as sent, in arrival order (so a test can
  // check "one soft call, then one ForceStop=true call").
  std::map<std::string, std::vector<AliyunRebootCall>> reboot_calls;
  std::map<std::string, int64_t> reboots;  // instance id -> reboots (only rebooted instances)
  std::vector<std::string> rebooted_more_than_once;
  int64_t total_reboots = 0;
};

struct Report {
  ProviderReport tencent;
  ProviderReport aliyun;
  // {"providers":{"tencent":{"actions":{NAME:{calls,ok,throttled,auth_failures,errors,faults,
  //   max_calls_in_any_1s_window,rate_limit,effects,batch_sizes}},"reboots":{id:n},
  //   "instances_rebooted":n,"total_reboots":n,"instances_rebooted_more_than_once":[ids],
  //   "reboot_calls":{id:[{force_stop,dry_run,code}]} (empty for
  //   tencent)},"aliyun":{...}},"totals":{"calls":n,"reboots":n,"instances_rebooted_more_than_once":n,
  //   "max_calls_in_any_1s_window_exceeded_limit":bool}}
  json::Value ToJson() const;
};

class Engine;

class Simulator {
 public:
  // Validates the options (instances, rate-limit keys, reboot timing, listen address) and builds
  // the instance table. kInvalidArgument with a clear message. `clock` must outlive the result.
  static Result<std::unique_ptr<Simulator>> Create(SimOptions options, Clock& clock);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // Starts the HTTP server on options.listen. kUnavailable when it cannot bind.
  Status Start();
  // Stops the server (idempotent). Handle() keeps working.
  void Stop();
  // "http://127.0.0.1:PORT" once started; "" before.
  std::string BaseUrl() const;
  int Port() const;

  // The request handler the server runs; tests call it directly.
  http::ServerResponse Handle(const http::ServerRequest& request);

  Report GetReport() const;
  json::Value ReportJson() const { return GetReport().ToJson(); }
  json::Value InstancesJson() const;
  void SetFaults(std::vector<FaultRule> faults);
  std::vector<FaultRule> Faults() const;
  void ResetReport();

  // Current state of one instance (Tencent "RUNNING"/"REBOOTING"/"STOPPED"; Aliyun "Running",
  // "Stopping", "Starting", "Stopped"), nullopt when unknown.
  std::optional<std::string> InstanceState(cloud::Provider provider, const std::string& id) const;
  // Reboots recorded for one instance (0 when unknown).
  int64_t RebootCount(cloud::Provider provider, const std::string& id) const;

 private:
  Simulator(SimOptions options, std::unique_ptr<Engine> engine);

  SimOptions options_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace rebootd::sim
