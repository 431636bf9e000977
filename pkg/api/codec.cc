// SPDX-License-Identifier: Apache-2.0
#include "pkg/api/codec.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>

namespace rebootd::api {
namespace {

// ---------------------------------------------------------------- YAML scalar typing
// yaml-cpp leaves plain scalars untyped; resolve them with the YAML 1.2 core schema so that
// `dryRun: "true"` (a string) and `timeoutSeconds: 9x` are reported as wrong types.
enum class ScalarKind { kNull, kBool, kInt, kFloat, kString };

bool IsIntText(std::string_view s) {
  if (s.empty()) return false;
  size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i == s.size()) return false;
  return std::all_of(s.begin() + static_cast<long>(i), s.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

bool IsFloatText(std::string_view s) {
  if (s == ".inf" || s == "-.inf" || s == ".nan" || s == ".NaN" || s == ".Inf") return true;
  double d;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  return ec == std::errc() && ptr == s.data() + s.size();
}

ScalarKind KindOf(const YAML::Node& n) {
  if (n.IsNull()) return ScalarKind::kNull;
  if (!n.IsScalar()) return ScalarKind::kString;
  if (n.Tag() == "!") return ScalarKind::kString;  // quoted
  const std::string& s = n.Scalar();
  if (s == "null" || s == "Null" || s == "NULL" || s == "~" || s.empty()) return ScalarKind::kNull;
  if (s == "true" || s == "True" || s == "TRUE" || s == "false" || s == "False" || s == "FALSE")
    return ScalarKind::kBool;
  if (IsIntText(s)) return ScalarKind::kInt;
  if (IsFloatText(s)) return ScalarKind::kFloat;
  return ScalarKind::kString;
}

std::string Describe(const YAML::Node& n) {
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "an object";
  switch (KindOf(n)) {
    case ScalarKind::kNull:
      return "null";
    case ScalarKind::kBool:
      return "a boolean";
    case ScalarKind::kInt:
      return "an integer";
    case ScalarKind::kFloat:
      return "a number";
    case ScalarKind::kString:
      return "a string";
  }
  return "a value";
}

int LineOf(const YAML::Node& n) {
  YAML::Mark m = n.Mark();
  return m.is_null() ? 0 : m.line + 1;
}

class DocDecoder {
 public:
  DocDecoder(std::string_view file, std::vector<FieldError>* errors)
      : file_(file), errors_(errors) {}

  std::optional<RebootRequest> Decode(const YAML::Node& doc) {
    doc_line_ = LineOf(doc);
    if (!doc.IsMap()) {
      Fail(doc, "", "a manifest must be an object, found " + Describe(doc));
      return std::nullopt;
    }
    RebootRequest req;
    CheckKeys(doc, "", {"apiVersion", "kind", "metadata", "spec", "status"}, {});
    std::string api_version, kind;
    RequiredString(doc, "apiVersion", "apiVersion", &api_version);
    RequiredString(doc, "kind", "kind", &kind);
    if (!api_version.empty() && api_version != kApiVersion) {
      Fail(doc["apiVersion"], "apiVersion",
           "unsupported apiVersion \"" + api_version + "\"; expected \"" +
               std::string(kApiVersion) + "\"");
    }
    if (!kind.empty() && kind != kKind) {
      Fail(doc["kind"], "kind",
           "unsupported kind \"" + kind + "\"; expected \"" + std::string(kKind) + "\"");
    }
    DecodeMetadata(doc, &req.metadata);
    DecodeSpec(doc, &req.spec);
    if (failed_) return std::nullopt;
    auto semantic = Validate(req, file_, [this](const std::string& path) {
      auto it = lines_.find(path);
      if (it != lines_.end()) return it->second;
      // Fall back to the closest recorded parent path.
      std::string p = path;
      while (!p.empty()) {
        size_t cut = p.find_last_of(".[");
        if (cut == std::string::npos) break;
        p.resize(cut);
        auto jt = lines_.find(p);
        if (jt != lines_.end()) return jt->second;
      }
      return doc_line_;
    });
    if (!semantic.empty()) {
      for (auto& e : semantic) errors_->push_back(std::move(e));
      return std::nullopt;
    }
    return req;
  }

 private:
  void Fail(const YAML::Node& at, const std::string& path, std::string message) {
    int line = at.IsDefined() ? LineOf(at) : 0;
    if (line == 0) line = doc_line_;
    errors_->push_back(FieldError{std::string(file_), line, path, std::move(message)});
    failed_ = true;
  }
  void FailAtLine(int line, const std::string& path, std::string message) {
    errors_->push_back(
        FieldError{std::string(file_), line ? line : doc_line_, path, std::move(message)});
    failed_ = true;
  }

  static std::string Join(const std::string& base, const std::string& key) {
    return base.empty() ? key : base + "." + key;
  }

  // Reports every key of `map` that is neither in `known` nor in `ignored`.
  void CheckKeys(const YAML::Node& map, const std::string& path,
                 std::initializer_list<const char*> known,
                 std::initializer_list<const char*> ignored) {
    std::set<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      // A copy: yaml-cpp's iterator returns a proxy by value, so a reference to its `first`
      // dangles after this statement (found by AddressSanitizer).
      const YAML::Node k = it->first;
      if (!k.IsScalar()) {
        Fail(k, path, "field names must be strings");
        continue;
      }
      const std::string& name = k.Scalar();
      if (!seen.insert(name).second) {
        Fail(k, Join(path, name), "duplicate field");
        continue;
      }
      bool ok =
          std::any_of(known.begin(), known.end(), [&](const char* c) { return name == c; }) ||
          std::any_of(ignored.begin(), ignored.end(), [&](const char* c) { return name == c; });
      if (!ok) {
        std::string list;
        for (const char* c : known) list += (list.empty() ? "" : ", ") + std::string(c);
        Fail(k, Join(path, name), "unknown field (known fields: " + list + ")");
      }
      lines_[Join(path, name)] = LineOf(k);
    }
  }

  bool StringField(const YAML::Node& n, const std::string& path, std::string* out) {
    if (!n.IsScalar() || KindOf(n) != ScalarKind::kString) {
      Fail(n, path, "must be a string, found " + Describe(n));
      return false;
    }
    *out = n.Scalar();
    return true;
  }

  void RequiredString(const YAML::Node& parent, const char* key, const std::string& path,
                      std::string* out) {
    YAML::Node n = parent[key];
    if (!n.IsDefined() || n.IsNull()) {
      FailAtLine(LineOf(parent), path, "required field is missing");
      return;
    }
    StringField(n, path, out);
  }

  void StringMap(const YAML::Node& n, const std::string& path,
                 std::map<std::string, std::string>* out) {
    if (n.IsNull()) return;
    if (!n.IsMap()) {
      Fail(n, path, "must be an object of strings, found " + Describe(n));
      return;
    }
    for (auto it = n.begin(); it != n.end(); ++it) {
      std::string key = it->first.IsScalar() ? it->first.Scalar() : "";
      std::string value;
      if (!it->second.IsScalar() || it->second.IsNull()) {
        Fail(it->second, path + "." + key, "must be a string");
        continue;
      }
      (*out)[key] = it->second.Scalar();
    }
  }

  void DecodeMetadata(const YAML::Node& doc, ObjectMeta* meta) {
    YAML::Node m = doc["metadata"];
    if (!m.IsDefined() || m.IsNull()) {
      FailAtLine(doc_line_, "metadata", "required field is missing");
      return;
    }
    if (!m.IsMap()) {
      Fail(m, "metadata", "must be an object, found " + Describe(m));
      return;
    }
    // Server-populated fields are accepted (and ignored) so that `kubectl get -o yaml` output
    // can be dropped into a watched folder.
    CheckKeys(m, "metadata", {"name", "namespace", "labels", "annotations"},
              {"uid", "resourceVersion", "generation", "creationTimestamp", "managedFields",
               "selfLink", "finalizers", "ownerReferences"});
    RequiredString(m, "name", "metadata.name", &meta->name);
    if (m["namespace"].IsDefined() && !m["namespace"].IsNull()) {
      StringField(m["namespace"], "metadata.namespace", &meta->namespace_);
    }
    if (m["labels"].IsDefined()) StringMap(m["labels"], "metadata.labels", &meta->labels);
    if (m["annotations"].IsDefined())
      StringMap(m["annotations"], "metadata.annotations", &meta->annotations);
  }

  void DecodeSpec(const YAML::Node& doc, RebootRequestSpec* spec) {
    YAML::Node s = doc["spec"];
    if (!s.IsDefined() || s.IsNull()) {
      FailAtLine(doc_line_, "spec", "required field is missing");
      return;
    }
    if (!s.IsMap()) {
      Fail(s, "spec", "must be an object, found " + Describe(s));
      return;
    }
    CheckKeys(s, "spec",
              {"provider", "region", "instanceIds", "mode", "dryRun", "timeoutSeconds",
               "credentialsSecretRef"},
              {});
    std::string provider;
    RequiredString(s, "provider", "spec.provider", &provider);
    if (!provider.empty()) {
      auto p = ParseProvider(provider);
      if (!p) {
        Fail(s["provider"], "spec.provider",
             "unknown provider \"" + provider + "\"; must be one of: tencent, aliyun");
      } else {
        spec->provider = *p;
      }
    }
    if (s["region"].IsDefined() && !s["region"].IsNull()) {
      StringField(s["region"], "spec.region", &spec->region);
    }
    YAML::Node ids = s["instanceIds"];
    if (!ids.IsDefined() || ids.IsNull()) {
      FailAtLine(LineOf(s), "spec.instanceIds", "required field is missing");
    } else if (!ids.IsSequence()) {
      Fail(ids, "spec.instanceIds", "must be a list of strings, found " + Describe(ids));
    } else {
      spec->instance_ids.reserve(ids.size());
      for (size_t i = 0; i < ids.size(); ++i) {
        std::string path = "spec.instanceIds[" + std::to_string(i) + "]";
        lines_[path] = LineOf(ids[i]);
        std::string id;
        if (StringField(ids[i], path, &id)) spec->instance_ids.push_back(std::move(id));
      }
    }
    if (s["mode"].IsDefined() && !s["mode"].IsNull()) {
      std::string mode;
      if (StringField(s["mode"], "spec.mode", &mode)) {
        auto m = ParseMode(mode);
        if (!m) {
          Fail(s["mode"], "spec.mode",
               "unknown mode \"" + mode + "\"; must be one of: Soft, Hard, SoftFirst");
        } else {
          spec->mode = *m;
        }
      }
    }
    if (s["dryRun"].IsDefined() && !s["dryRun"].IsNull()) {
      YAML::Node n = s["dryRun"];
      if (KindOf(n) != ScalarKind::kBool) {
        Fail(n, "spec.dryRun", "must be a boolean (true or false), found " + Describe(n));
      } else {
        spec->dry_run = n.Scalar()[0] == 't' || n.Scalar()[0] == 'T';
      }
    }
    if (s["timeoutSeconds"].IsDefined() && !s["timeoutSeconds"].IsNull()) {
      YAML::Node n = s["timeoutSeconds"];
      int64_t v = 0;
      bool ok = KindOf(n) == ScalarKind::kInt;
      if (ok) {
        const std::string& text = n.Scalar();
        size_t skip = text[0] == '+' ? 1 : 0;
        auto [ptr, ec] = std::from_chars(text.data() + skip, text.data() + text.size(), v);
        ok = ec == std::errc() && ptr == text.data() + text.size();
      }
      if (!ok) {
        Fail(n, "spec.timeoutSeconds",
             "must be an integer number of seconds, found " + Describe(n));
      } else {
        spec->timeout_seconds = v;
      }
    }
    if (s["credentialsSecretRef"].IsDefined() && !s["credentialsSecretRef"].IsNull()) {
      YAML::Node r = s["credentialsSecretRef"];
      if (!r.IsMap()) {
        Fail(r, "spec.credentialsSecretRef", "must be an object, found " + Describe(r));
      } else {
        CheckKeys(r, "spec.credentialsSecretRef", {"name"}, {});
        SecretRef ref;
        RequiredString(r, "name", "spec.credentialsSecretRef.name", &ref.name);
        spec->credentials_secret_ref = ref;
      }
    }
  }

  std::string_view file_;
  std::vector<FieldError>* errors_;
  std::unordered_map<std::string, int> lines_;
  int doc_line_ = 0;
  bool failed_ = false;
};

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

std::string RegionOk(std::string_view r) {
  if (r.empty() || r.size() > 64) return "must be 1..64 characters";
  for (char c : r) {
    if (!IsLowerAlnum(c) && c != '-') return "may contain only a-z, 0-9 and '-'";
  }
  return "";
}

}  // namespace

std::string FieldError::ToString() const {
  std::string out = file.empty() ? "<input>" : file;
  out += ":" + std::to_string(line) + ": ";
  if (!path.empty()) out += path + ": ";
  out += message;
  return out;
}

bool IsValidInstanceId(Provider provider, std::string_view id) {
  std::string_view prefix = provider == Provider::kTencent ? "ein-" : "i-";
  size_t min = provider == Provider::kTencent ? 6 : 8;
  size_t max = provider == Provider::kTencent ? 16 : 32;
  if (id.substr(0, prefix.size()) != prefix) return false;
  std::string_view rest = id.substr(prefix.size());
  if (rest.size() < min || rest.size() > max) return false;
  return std::all_of(rest.begin(), rest.end(), IsLowerAlnum);
}

bool IsDns1123Label(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!IsLowerAlnum(s.front()) || !IsLowerAlnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return IsLowerAlnum(c) || c == '-'; });
}

bool IsDns1123Subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view part = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (!IsDns1123Label(part)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::vector<FieldError> Validate(const RebootRequest& request, std::string_view file_name,
                                 const LineLocator& locate) {
  std::vector<FieldError> errors;
  auto add = [&](const std::string& path, std::string message) {
    errors.push_back(
        FieldError{std::string(file_name), locate ? locate(path) : 0, path, std::move(message)});
  };
  const auto& meta = request.metadata;
  if (meta.name.empty()) {
    add("metadata.name", "required field is missing");
  } else if (!IsDns1123Subdomain(meta.name)) {
    add("metadata.name",
        "\"" + meta.name +
            "\" is not a valid name: use lowercase letters, digits, '-' and '.', at most 253 "
            "characters, starting and ending with a letter or digit");
  }
  if (!IsDns1123Label(meta.namespace_)) {
    add("metadata.namespace", "\"" + meta.namespace_ +
                                  "\" is not a valid namespace: use lowercase letters, digits "
                                  "and '-', at most 63 characters");
  }
  const auto& spec = request.spec;
  if (spec.provider == Provider::kAliyun && spec.region.empty()) {
    add("spec.region", "required for provider aliyun (e.g. cn-hangzhou)");
  }
  if (!spec.region.empty()) {
    std::string why = RegionOk(spec.region);
    if (!why.empty()) add("spec.region", "\"" + spec.region + "\" " + why);
  }
  const auto& ids = spec.instance_ids;
  if (ids.empty()) {
    add("spec.instanceIds", "at least one instance ID is required");
  } else if (ids.size() > static_cast<size_t>(kMaxInstances)) {
    add("spec.instanceIds", std::to_string(ids.size()) + " IDs; at most " +
                                std::to_string(kMaxInstances) + " are allowed per request");
  }
  std::unordered_map<std::string_view, size_t> first;
  int bad = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    std::string path = "spec.instanceIds[" + std::to_string(i) + "]";
    if (!IsValidInstanceId(spec.provider, ids[i])) {
      if (++bad <= 20) {
        add(path, "\"" + ids[i] + "\" is not a valid " + std::string(ProviderName(spec.provider)) +
                      " instance ID (expected " +
                      (spec.provider == Provider::kTencent ? "\"ein-\" followed by 6-16 of a-z0-9"
                                                           : "\"i-\" followed by 8-32 of a-z0-9") +
                      ")");
      }
      continue;
    }
    auto [it, inserted] = first.emplace(ids[i], i);
    if (!inserted) {
      add(path,
          "duplicate of spec.instanceIds[" + std::to_string(it->second) + "] (\"" + ids[i] + "\")");
    }
  }
  if (bad > 20) {
    add("spec.instanceIds", std::to_string(bad - 20) + " more invalid instance IDs not listed");
  }
  if (spec.timeout_seconds < 1 || spec.timeout_seconds > kMaxTimeoutSeconds) {
    add("spec.timeoutSeconds", "must be between 1 and " + std::to_string(kMaxTimeoutSeconds) +
                                   " seconds, got " + std::to_string(spec.timeout_seconds));
  }
  if (spec.credentials_secret_ref && !IsDns1123Subdomain(spec.credentials_secret_ref->name)) {
    add("spec.credentialsSecretRef.name",
        "\"" + spec.credentials_secret_ref->name + "\" is not a valid Secret name");
  }
  return errors;
}

namespace {

// Drops every parse event; the first pass below only counts documents.
class IgnoreEvents final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// yaml-cpp 0.7 (Debian 12) never finishes LoadAll() on some malformed streams, such as ",?":
// its parser reports an empty document again and again without consuming input, and LoadAll
// keeps every one of them, so memory grows until the process is killed (found by fuzzing;
// fixed upstream in 2024, jbeder/yaml-cpp pull request 1319). This first pass runs the same
// parser and gives up once it has seen more documents than the text could hold.
bool ParserFinishes(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  IgnoreEvents events;
  size_t documents = 0;
  while (parser.HandleNextDocument(events)) {
    if (++documents > text.size() + 1) return false;
  }
  return true;
}

}  // namespace

DecodeResult DecodeManifests(std::string_view text, std::string_view file_name) {
  DecodeResult result;
  std::vector<YAML::Node> docs;
  try {
    const std::string copy(text);
    if (!ParserFinishes(copy)) {
      result.errors.push_back(FieldError{std::string(file_name), 0, "",
                                         "invalid YAML: the parser makes no progress (a stray "
                                         "',' or '?' outside a flow collection?)"});
      return result;
    }
    docs = YAML::LoadAll(copy);
  } catch (const YAML::Exception& e) {
    result.errors.push_back(FieldError{std::string(file_name),
                                       e.mark.is_null() ? 0 : e.mark.line + 1, "",
                                       "invalid YAML: " + e.msg});
    return result;
  }
  std::vector<int> lines;  // the first line of each decoded request's document
  for (const auto& doc : docs) {
    if (!doc.IsDefined() || doc.IsNull()) continue;
    try {
      DocDecoder decoder(file_name, &result.errors);
      if (auto req = decoder.Decode(doc)) {
        result.requests.push_back(std::move(*req));
        lines.push_back(LineOf(doc));
      }
    } catch (const YAML::Exception& e) {
      result.errors.push_back(FieldError{std::string(file_name),
                                         e.mark.is_null() ? 0 : e.mark.line + 1, "",
                                         "invalid manifest: " + e.msg});
    }
  }
  // Two documents with the same name in one file are ambiguous: the first is kept (as across
  // files, see FileSource) and the error points at the repeated one.
  std::map<std::string, size_t> keys;
  for (size_t i = 0; i < result.requests.size(); ++i) {
    auto [first, inserted] = keys.emplace(result.requests[i].Key(), i);
    if (!inserted) {
      result.errors.push_back(
          FieldError{std::string(file_name), lines[i], "metadata.name",
                     "RebootRequest " + result.requests[i].Key() +
                         " is defined more than once in this file; using the first (line " +
                         std::to_string(lines[first->second]) + ")"});
    }
  }
  return result;
}

// ---------------------------------------------------------------- JSON

namespace {

json::Value TimeOrNull(const std::optional<SystemTime>& t) {
  return t ? json::Value(FormatRfc3339(*t)) : json::Value();
}

std::optional<SystemTime> TimeFrom(const json::Value* v) {
  SystemTime t;
  if (v && v->is_string() && ParseRfc3339(v->AsString(), &t)) return t;
  return std::nullopt;
}

std::string StringFrom(const json::Value* v) {
  return v && v->is_string() ? v->AsString() : std::string();
}

int64_t IntFrom(const json::Value* v, int64_t fallback = 0) {
  return v && v->is_number() ? v->AsInt() : fallback;
}

}  // namespace

namespace {

// level 0: every field; 1 and 2: see StatusToJson in codec.h.
json::Value InstanceToJson(const InstanceStatus& i, int level) {
  json::Value o = json::Value::MakeObject();
  o.Set("id", i.id);
  o.Set("state", std::string(InstanceStateName(i.state)));
  const bool finished = IsFinished(i.state);
  if (level >= 1 && finished) {
    if (!i.reason.empty() && (level == 1 || i.state == InstanceState::kFailed)) {
      o.Set("reason", i.reason);
    }
    if (level == 1) {
      if (!i.message.empty()) o.Set("message", i.message.substr(0, 80));
      if (i.completed_at) o.Set("completedAt", FormatRfc3339(*i.completed_at));
    }
    return o;
  }
  if (!i.reason.empty()) o.Set("reason", i.reason);
  if (level == 0 && !i.message.empty()) o.Set("message", i.message);
  if (!i.request_id.empty()) o.Set("requestId", i.request_id);
  o.Set("attempts", i.attempts);
  if (i.requested_at) o.Set("requestedAt", FormatRfc3339(*i.requested_at));
  if (i.accepted_at) o.Set("acceptedAt", FormatRfc3339(*i.accepted_at));
  if (i.completed_at) o.Set("completedAt", FormatRfc3339(*i.completed_at));
  if (i.escalated) o.Set("escalated", true);
  if (i.seen_transitional) o.Set("seenTransitional", true);
  // A Pending instance's baseline is only a candidate until its intent is written.
  if (!i.baseline.empty() && (i.state != InstanceState::kPending || i.escalated)) {
    o.Set("baseline", i.baseline);
  }
  return o;
}

json::Value StatusToJsonAt(const RebootRequestStatus& st, int level) {
  json::Value s = json::Value::MakeObject();
  s.Set("phase", std::string(PhaseName(st.phase)));
  s.Set("observedGeneration", st.observed_generation);
  if (st.started_at) s.Set("startedAt", FormatRfc3339(*st.started_at));
  if (st.completed_at) s.Set("completedAt", FormatRfc3339(*st.completed_at));
  json::Value sum = json::Value::MakeObject();
  sum.Set("total", st.summary.total);
  sum.Set("pending", st.summary.pending);
  sum.Set("rebooting", st.summary.rebooting);
  sum.Set("succeeded", st.summary.succeeded);
  sum.Set("failed", st.summary.failed);
  s.Set("summary", std::move(sum));
  json::Value list = json::Value::MakeArray();
  for (const auto& i : st.instances) list.PushBack(InstanceToJson(i, level));
  s.Set("instances", std::move(list));
  json::Value conds = json::Value::MakeArray();
  for (const auto& c : st.conditions) {
    json::Value o = json::Value::MakeObject();
    o.Set("type", c.type);
    o.Set("status", c.status);
    o.Set("reason", c.reason);
    o.Set("message", c.message);
    o.Set("lastTransitionTime", TimeOrNull(c.last_transition_time));
    o.Set("observedGeneration", c.observed_generation);
    conds.PushBack(std::move(o));
  }
  s.Set("conditions", std::move(conds));
  if (!st.spec_hash.empty()) s.Set("specHash", st.spec_hash);
  return s;
}

}  // namespace

json::Value InstanceStatusToJson(const InstanceStatus& instance) {
  return InstanceToJson(instance, 0);
}

json::Value StatusToJson(const RebootRequestStatus& st, size_t max_bytes) {
  json::Value s = StatusToJsonAt(st, 0);
  for (int level = 1; level <= 2 && max_bytes > 0 && s.Dump().size() > max_bytes; ++level) {
    s = StatusToJsonAt(st, level);
  }
  return s;
}

Result<RebootRequestStatus> StatusFromJson(const json::Value& v) {
  if (!v.is_object()) return MakeError(ErrorCode::kInvalidArgument, "status: must be an object");
  RebootRequestStatus st;
  auto phase = ParsePhase(StringFrom(v.Find("phase")));
  if (!phase) return MakeError(ErrorCode::kInvalidArgument, "status.phase: unknown phase");
  st.phase = *phase;
  st.observed_generation = IntFrom(v.Find("observedGeneration"));
  st.started_at = TimeFrom(v.Find("startedAt"));
  st.completed_at = TimeFrom(v.Find("completedAt"));
  st.spec_hash = StringFrom(v.Find("specHash"));
  if (const json::Value* list = v.Find("instances"); list && list->is_array()) {
    st.instances.reserve(list->size());
    for (const auto& o : list->AsArray()) {
      InstanceStatus i;
      i.id = StringFrom(o.Find("id"));
      auto state = ParseInstanceState(StringFrom(o.Find("state")));
      if (i.id.empty() || !state) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "status.instances: entry without a valid id and state");
      }
      i.state = *state;
      i.reason = StringFrom(o.Find("reason"));
      i.message = StringFrom(o.Find("message"));
      i.request_id = StringFrom(o.Find("requestId"));
      i.attempts = static_cast<int>(IntFrom(o.Find("attempts")));
      i.requested_at = TimeFrom(o.Find("requestedAt"));
      i.accepted_at = TimeFrom(o.Find("acceptedAt"));
      i.completed_at = TimeFrom(o.Find("completedAt"));
      const json::Value* esc = o.Find("escalated");
      i.escalated = esc && esc->AsBool();
      const json::Value* seen = o.Find("seenTransitional");
      i.seen_transitional = seen && seen->AsBool();
      i.baseline = StringFrom(o.Find("baseline"));
      st.instances.push_back(std::move(i));
    }
  }
  if (const json::Value* conds = v.Find("conditions"); conds && conds->is_array()) {
    for (const auto& o : conds->AsArray()) {
      Condition c;
      c.type = StringFrom(o.Find("type"));
      c.status = StringFrom(o.Find("status"));
      c.reason = StringFrom(o.Find("reason"));
      c.message = StringFrom(o.Find("message"));
      c.last_transition_time = TimeFrom(o.Find("lastTransitionTime"));
      c.observed_generation = IntFrom(o.Find("observedGeneration"));
      st.conditions.push_back(std::move(c));
    }
  }
  st.summary = Summarize(st.instances);
  return st;
}

json::Value ToJson(const RebootRequest& r, bool include_status) {
  json::Value o = json::Value::MakeObject();
  o.Set("apiVersion", std::string(kApiVersion));
  o.Set("kind", std::string(kKind));
  json::Value m = json::Value::MakeObject();
  m.Set("name", r.metadata.name);
  m.Set("namespace", r.metadata.namespace_);
  if (!r.metadata.uid.empty()) m.Set("uid", r.metadata.uid);
  if (!r.metadata.resource_version.empty()) m.Set("resourceVersion", r.metadata.resource_version);
  m.Set("generation", r.metadata.generation);
  if (r.metadata.creation_timestamp)
    m.Set("creationTimestamp", FormatRfc3339(*r.metadata.creation_timestamp));
  if (!r.metadata.labels.empty()) {
    json::Value l = json::Value::MakeObject();
    for (const auto& [k, v] : r.metadata.labels) l.Set(k, v);
    m.Set("labels", std::move(l));
  }
  if (!r.metadata.annotations.empty()) {
    json::Value a = json::Value::MakeObject();
    for (const auto& [k, v] : r.metadata.annotations) a.Set(k, v);
    m.Set("annotations", std::move(a));
  }
  o.Set("metadata", std::move(m));
  json::Value s = json::Value::MakeObject();
  s.Set("provider", std::string(ProviderName(r.spec.provider)));
  if (!r.spec.region.empty()) s.Set("region", r.spec.region);
  json::Value ids = json::Value::MakeArray();
  for (const auto& id : r.spec.instance_ids) ids.PushBack(id);
  s.Set("instanceIds", std::move(ids));
  s.Set("mode", std::string(ModeName(r.spec.mode)));
  s.Set("dryRun", r.spec.dry_run);
  s.Set("timeoutSeconds", r.spec.timeout_seconds);
  if (r.spec.credentials_secret_ref) {
    json::Value ref = json::Value::MakeObject();
    ref.Set("name", r.spec.credentials_secret_ref->name);
    s.Set("credentialsSecretRef", std::move(ref));
  }
  o.Set("spec", std::move(s));
  if (include_status && r.status) o.Set("status", StatusToJson(*r.status));
  return o;
}

Result<RebootRequest> FromJson(const json::Value& v, bool strict_status) {
  std::vector<std::string> problems;
  auto bad = [&](std::string p) { problems.push_back(std::move(p)); };
  if (!v.is_object()) return MakeError(ErrorCode::kInvalidArgument, "object must be a JSON object");
  RebootRequest r;
  if (StringFrom(v.Find("apiVersion")) != kApiVersion)
    bad("apiVersion: must be rebootd.io/v1alpha1");
  if (StringFrom(v.Find("kind")) != kKind) bad("kind: must be RebootRequest");
  const json::Value* m = v.Find("metadata");
  if (!m || !m->is_object()) {
    bad("metadata: required object is missing");
  } else {
    r.metadata.name = StringFrom(m->Find("name"));
    if (std::string ns = StringFrom(m->Find("namespace")); !ns.empty()) r.metadata.namespace_ = ns;
    r.metadata.uid = StringFrom(m->Find("uid"));
    r.metadata.resource_version = StringFrom(m->Find("resourceVersion"));
    r.metadata.generation = IntFrom(m->Find("generation"), 1);
    r.metadata.creation_timestamp = TimeFrom(m->Find("creationTimestamp"));
    if (const json::Value* l = m->Find("labels"); l && l->is_object())
      for (const auto& [k, val] : l->AsObject()) r.metadata.labels[k] = val.AsString();
    if (const json::Value* a = m->Find("annotations"); a && a->is_object())
      for (const auto& [k, val] : a->AsObject()) r.metadata.annotations[k] = val.AsString();
  }
  const json::Value* s = v.Find("spec");
  if (!s || !s->is_object()) {
    bad("spec: required object is missing");
  } else {
    for (const auto& [k, val] : s->AsObject()) {
      static const std::set<std::string> known = {
          "provider", "region",         "instanceIds",         "mode",
          "dryRun",   "timeoutSeconds", "credentialsSecretRef"};
      if (!known.count(k)) bad("spec." + k + ": unknown field");
    }
    auto provider = ParseProvider(StringFrom(s->Find("provider")));
    if (!provider)
      bad("spec.provider: must be one of: tencent, aliyun");
    else
      r.spec.provider = *provider;
    if (const json::Value* reg = s->Find("region"); reg && !reg->is_null()) {
      if (!reg->is_string())
        bad("spec.region: must be a string");
      else
        r.spec.region = reg->AsString();
    }
    const json::Value* ids = s->Find("instanceIds");
    if (!ids || !ids->is_array()) {
      bad("spec.instanceIds: must be a list of strings");
    } else {
      for (size_t i = 0; i < ids->AsArray().size(); ++i) {
        const auto& id = ids->AsArray()[i];
        if (!id.is_string())
          bad("spec.instanceIds[" + std::to_string(i) + "]: must be a string");
        else
          r.spec.instance_ids.push_back(id.AsString());
      }
    }
    if (const json::Value* mode = s->Find("mode"); mode && !mode->is_null()) {
      auto md = mode->is_string() ? ParseMode(mode->AsString()) : std::nullopt;
      if (!md)
        bad("spec.mode: must be one of: Soft, Hard, SoftFirst");
      else
        r.spec.mode = *md;
    }
    if (const json::Value* dry = s->Find("dryRun"); dry && !dry->is_null()) {
      if (!dry->is_bool())
        bad("spec.dryRun: must be a boolean");
      else
        r.spec.dry_run = dry->AsBool();
    }
    if (const json::Value* t = s->Find("timeoutSeconds"); t && !t->is_null()) {
      if (!t->is_integer())
        bad("spec.timeoutSeconds: must be an integer");
      else
        r.spec.timeout_seconds = t->AsInt();
    }
    if (const json::Value* ref = s->Find("credentialsSecretRef"); ref && !ref->is_null()) {
      if (!ref->is_object() || !ref->Find("name") || !ref->Find("name")->is_string())
        bad("spec.credentialsSecretRef.name: must be a string");
      else
        r.spec.credentials_secret_ref = SecretRef{ref->Find("name")->AsString()};
    }
  }
  if (problems.empty()) {
    for (const auto& e : Validate(r)) problems.push_back(e.path + ": " + e.message);
  }
  if (!problems.empty()) {
    std::string msg;
    for (const auto& p : problems) msg += (msg.empty() ? "" : "; ") + p;
    return MakeError(ErrorCode::kInvalidArgument, msg);
  }
  if (const json::Value* st = v.Find("status"); st && !st->is_null()) {
    auto status = StatusFromJson(*st);
    if (status) {
      r.status = std::move(*status);
    } else if (strict_status) {
      return MakeError(status.error());
    }
  }
  return r;
}

}  // namespace rebootd::api
