// SPDX-License-Identifier: Apache-2.0
#include "pkg/http/transport.h"

#include <algorithm>
#include <cctype>

namespace rebootd::http {
namespace {

bool NameEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

void Headers::Set(std::string name, std::string value) {
  // Replace the first occurrence in place (keeps its position) and drop any later duplicates.
  auto first = std::find_if(items.begin(), items.end(),
                            [&](const auto& item) { return NameEquals(item.first, name); });
  if (first == items.end()) {
    items.emplace_back(std::move(name), std::move(value));
    return;
  }
  first->first = std::move(name);
  first->second = std::move(value);
  const std::string& kept = first->first;
  items.erase(std::remove_if(std::next(first), items.end(),
                             [&](const auto& item) { return NameEquals(item.first, kept); }),
              items.end());
}

void Headers::Add(std::string name, std::string value) {
  items.emplace_back(std::move(name), std::move(value));
}

const std::string* Headers::Get(std::string_view name) const {
  for (const auto& [key, value] : items) {
    if (NameEquals(key, name)) return &value;
  }
  return nullptr;
}

std::string Headers::GetOr(std::string_view name, std::string fallback) const {
  const std::string* value = Get(name);
  return value != nullptr ? *value : std::move(fallback);
}

}  // namespace rebootd::http
