// SPDX-License-Identifier: Apache-2.0
// The demo key pairs the simulator accepts when no key is configured for a provider (neither in
// SimOptions nor in the environment). `rebootd run --simulate` signs with them. They are not
// secrets: they only ever open the local simulator.
//   Tencent: SecretId AKIDREBOOTDDEMO0000000000000000000000, SecretKey
//   rebootd-demo-tencent-secret-key Aliyun:  AccessKeyId LTAI5tREBOOTDDEMO00000000, AccessKeySecret
//   rebootd-demo-aliyun-secret
#pragma once

#include "pkg/cloud/credentials.h"

namespace rebootd::sim {

inline constexpr const char* kDemoTencentSecretId = "AKIDREBOOTDDEMO0000000000000000000000";
inline constexpr const char* kDemoTencentSecretKey = "rebootd-demo-tencent-secret-key";
inline constexpr const char* kDemoAliyunAccessKeyId = "LTAI5tREBOOTDDEMO00000000";
inline constexpr const char* kDemoAliyunAccessKeySecret = "rebootd-demo-aliyun-secret";

inline cloud::Credentials DemoTencentCredentials() {
  return cloud::Credentials{kDemoTencentSecretId, kDemoTencentSecretKey, ""};
}
inline cloud::Credentials DemoAliyunCredentials() {
  return cloud::Credentials{kDemoAliyunAccessKeyId, kDemoAliyunAccessKeySecret, ""};
}

}  // namespace rebootd::sim
