// SPDX-License-Identifier: Apache-2.0
#include "pkg/base/provider.h"

namespace rebootd {

std::string_view ProviderName(Provider p) {
  switch (p) {
    case Provider::kAliyun:
      return "aliyun";
    case Provider::kTencent:
      return "tencent";
  }
  return "unknown";
}

std::optional<Provider> ParseProvider(std::string_view name) {
  if (name == "aliyun") return Provider::kAliyun;
  if (name == "tencent") return Provider::kTencent;
  return std::nullopt;
}

}  // namespace rebootd
