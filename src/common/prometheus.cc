#include "common/prometheus.h"

#include <fmt/format.h>

namespace clickflow::prometheus {

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

Text& Text::Family(std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(out_), "# HELP {0} {2}\n# TYPE {0} {1}\n", name, type, help);
  return *this;
}

void Text::Head(std::string_view name, const Labels& labels) {
  out_ += name;
  if (labels.empty()) return;
  out_ += '{';
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) out_ += ',';
    fmt::format_to(std::back_inserter(out_), "{}=\"{}\"", labels[i].first, EscapeLabelValue(labels[i].second));
  }
  out_ += '}';
}

Text& Text::Sample(std::string_view name, int64_t value, const Labels& labels) {
  Head(name, labels);
  fmt::format_to(std::back_inserter(out_), " {}\n", value);
  return *this;
}

Text& Text::Sample(std::string_view name, uint64_t value, const Labels& labels) {
  Head(name, labels);
  fmt::format_to(std::back_inserter(out_), " {}\n", value);
  return *this;
}

Text& Text::Sample(std::string_view name, double value, const Labels& labels) {
  Head(name, labels);
  fmt::format_to(std::back_inserter(out_), " {}\n", value);
  return *this;
}

}  // namespace clickflow::prometheus
