// report_files.cpp — the machine-readable forms of a run: CSV (one line per cell, the machine's
// facts on every line), JSON (machine, settings, cells) and an SVG bar chart on a log scale,
// drawn here so it needs nothing but a browser (GitHub shows it inline).
#include <algorithm>
#include <cmath>
#include <string_view>

#include "report.hpp"

namespace bench {
namespace {

std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\')
            out += '\\', out += c;
        else if (static_cast<unsigned char>(c) < 0x20)
            out += ' ';
        else
            out += c;
    }
    return out + "\"";
}

std::string xml_text(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '<')
            out += "&lt;";
        else if (c == '>')
            out += "&gt;";
        else if (c == '&')
            out += "&amp;";
        else if (c == '\'')
            out += "&apos;";
        else
            out += c;
    }
    return out;
}

std::string csv_field(std::string_view s) {  // quoted, inner quotes doubled
    std::string out = "\"";
    for (char c : s) out += (c == '"') ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

// Calls fn(row, mode name, measured, bytes per message) for every measured cell.
template <class Fn>
void each_cell(const Run& run, Fn&& fn) {
    for (const auto& r : run.rows) {
        if (r.mech->fixed_size && r.size != run.sizes.front()) continue;  // measured once
        const std::size_t bytes = r.mech->fixed_size ? r.mech->fixed_size : r.size;
        if (r.pingpong) fn(r, "pingpong", *r.pingpong, bytes);
        if (r.stream) fn(r, "stream", *r.stream, bytes);
    }
}

}  // namespace

void write_csv(std::FILE* out, const Run& run) {
    std::fprintf(
        out,
        "placement,cpu_a,cpu_b,mechanism,bytes,mode,rate_median,rate_min,rate_max,mb_per_s,"
        "p50_us,p99_us,p999_us,count,status,kernel,cpu_model,cores,virtualised,date\n");
    const Machine& m = run.machine;
    each_cell(run, [&](const Row& r, const char* mode, const Measured& c, std::size_t bytes) {
        const bool is_memcpy = !r.mech->make;  // its rate is bytes per second already
        const double mbs = is_memcpy ? c.rate.median / 1e6
                           : mode == std::string_view("stream")
                               ? c.rate.median * double(bytes) / 1e6
                               : 0;
        std::fprintf(
            out, "%s,%d,%d,%s,%zu,%s,%.1f,%.1f,%.1f,%.1f,%.3f,%.3f,%.3f,%llu,%s,%s,%s,%d,%s,%s\n",
            r.where->name.c_str(), r.where->cpu_a, r.where->cpu_b,
            std::string(r.mech->name).c_str(), bytes, mode, c.rate.median, c.rate.min, c.rate.max,
            mbs, c.p50_us, c.p99_us, c.p999_us, static_cast<unsigned long long>(c.count),
            csv_field(c.ok() ? "ok" : c.error).c_str(), csv_field(m.kernel).c_str(),
            csv_field(m.cpu_model).c_str(), m.cores, csv_field(m.virtualised).c_str(),
            m.date.c_str());
    });
}

void write_json(std::FILE* out, const Run& run) {
    const Machine& m = run.machine;
    std::fprintf(
        out,
        "{\n  \"machine\": {\"kernel\": %s, \"cpu_model\": %s, \"cores\": %d, \"virtualised\": %s, "
        "\"date\": %s, \"clock_read_ns\": %.1f, \"ring_spin_pauses\": %d, \"ring_spin_ns\": "
        "%.1f},\n",
        json_string(m.kernel).c_str(), json_string(m.cpu_model).c_str(), m.cores,
        json_string(m.virtualised).c_str(), json_string(m.date).c_str(), m.clock_ns, m.spin.pauses,
        m.spin.ns);
    std::fprintf(
        out,
        "  \"settings\": {\"budget_ms\": %lld, \"warmup_ms\": %lld, \"reps\": %d},\n  \"cells\": [",
        static_cast<long long>(run.settings.budget.count()),
        static_cast<long long>(run.settings.warmup.count()), run.settings.reps);
    const char* sep = "\n";
    each_cell(run, [&](const Row& r, const char* mode, const Measured& c, std::size_t bytes) {
        std::fprintf(
            out,
            "%s    {\"placement\": %s, \"cpu_a\": %d, \"cpu_b\": %d, \"mechanism\": %s, \"bytes\": "
            "%zu, "
            "\"mode\": \"%s\", \"rate_median\": %.1f, \"rate_min\": %.1f, \"rate_max\": %.1f, "
            "\"p50_us\": %.3f, \"p99_us\": %.3f, \"p999_us\": %.3f, \"count\": %llu, \"status\": "
            "%s}",
            sep, json_string(r.where->name).c_str(), r.where->cpu_a, r.where->cpu_b,
            json_string(r.mech->name).c_str(), bytes, mode, c.rate.median, c.rate.min, c.rate.max,
            c.p50_us, c.p99_us, c.p999_us, static_cast<unsigned long long>(c.count),
            json_string(c.ok() ? "ok" : c.error).c_str());
        sep = ",\n";
    });
    std::fprintf(out, "\n  ],\n  \"floors\": [");
    sep = "\n";
    for (std::size_t i = 0; i < run.floors.size() && i < run.placements.size(); ++i) {
        if (!run.floors[i].measured()) continue;
        const Spread f = run.floors[i].spread();
        std::fprintf(out,
                     "%s    {\"placement\": %s, \"runs\": %zu, \"p50_us_min\": %.3f, "
                     "\"p50_us_median\": %.3f, "
                     "\"p50_us_max\": %.3f}",
                     sep, json_string(run.placements[i].name).c_str(), run.floors[i].p50_us.size(),
                     f.min, f.median, f.max);
        sep = ",\n";
    }
    std::fprintf(out, "\n  ]\n}\n");
}

void write_svg(std::FILE* out, const Run& run) {
    // Round trips per second at the first size, one bar per placement, log scale 10^3..10^8.
    constexpr double kLeft = 230, kWidth = 600, kBar = 12, kLo = 3, kHi = 8;
    const char* colours[] = {"#4878a8", "#e0823d", "#6aa84f"};
    std::vector<const Row*> bars;
    for (const auto& m : mechanisms())
        for (const auto& p : run.placements)
            for (const auto& r : run.rows)
                if (r.mech == &m && r.where == &p && r.size == run.sizes.front() && r.pingpong &&
                    r.pingpong->ok())
                    bars.push_back(&r);
    const double height = 70 + double(bars.size()) * (kBar + 4);
    std::fprintf(out,
                 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                 "font-family=\"sans-serif\" font-size=\"11\">\n",
                 kLeft + kWidth + 30, height);
    std::fprintf(out,
                 "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n<text x=\"10\" y=\"18\" "
                 "font-size=\"13\">%s</text>\n",
                 xml_text("Round trips per second, " + size_name(run.sizes.front()) +
                          " messages (log scale) - " + run.machine.cpu_model)
                     .c_str());
    for (double d = kLo; d <= kHi; ++d) {
        const double x = kLeft + (d - kLo) / (kHi - kLo) * kWidth;
        std::fprintf(out,
                     "<line x1=\"%.1f\" y1=\"35\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#ccc\"/>"
                     "<text x=\"%.1f\" y=\"32\" text-anchor=\"middle\">1e%.0f</text>\n",
                     x, x, height - 10, x, d);
    }
    double y = 40;
    for (std::size_t i = 0; i < run.placements.size(); ++i)
        std::fprintf(out,
                     "<rect x=\"%.0f\" y=\"%.0f\" width=\"10\" height=\"10\" fill=\"%s\"/><text "
                     "x=\"%.0f\" y=\"%.0f\">%s</text>\n",
                     kLeft + kWidth - 120 + double(i) * 70, height - 24, colours[i % 3],
                     kLeft + kWidth - 106 + double(i) * 70, height - 15,
                     xml_text(run.placements[i].name).c_str());
    for (const Row* r : bars) {
        const double v = std::clamp(std::log10(std::max(r->pingpong->rate.median, 1.0)), kLo, kHi);
        const std::size_t pi = std::size_t(r->where - run.placements.data());
        std::fprintf(out,
                     "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%s</text>"
                     "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.1f\" height=\"%.0f\" fill=\"%s\"/>\n",
                     kLeft - 6, y + kBar - 2,
                     xml_text(std::string(r->mech->label) + " (" + r->where->name + ")").c_str(),
                     kLeft, y, (v - kLo) / (kHi - kLo) * kWidth, kBar, colours[pi % 3]);
        y += kBar + 4;
    }
    std::fprintf(out, "</svg>\n");
}

}  // namespace bench
