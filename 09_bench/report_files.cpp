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
                     "%s    {\"placement\": %s, \"runs\": %zu, \"trip_us_min\": %.3f, "
                     "\"trip_us_median\": %.3f, "
                     "\"trip_us_max\": %.3f}",
                     sep, json_string(run.placements[i].name).c_str(), run.floors[i].trip_us.size(),
                     f.min, f.median, f.max);
        sep = ",\n";
    }
    std::fprintf(out, "\n  ]\n}\n");
}

std::vector<bool> labels_that_fit(const std::vector<double>& x,
                                  const std::vector<std::string>& text,
                                  const std::vector<bool>& major) {
    // An 11 px sans-serif digit or letter is about 6 px wide; a label keeps 8 px clear of the next.
    auto half = [&](std::size_t i) { return 3.1 * double(text[i].size()) + 4; };
    std::vector<bool> shown(x.size(), false);
    auto clear = [&](std::size_t i) {
        for (std::size_t j = 0; j < x.size(); ++j)
            if (shown[j] && std::abs(x[i] - x[j]) < half(i) + half(j)) return false;
        return true;
    };
    for (std::size_t i = 0; i < x.size(); ++i) shown[i] = major[i];
    for (std::size_t i = 0; i < x.size(); ++i)
        if (!major[i] && clear(i)) shown[i] = true;
    return shown;
}

// ---- the SVG chart: two panels over the same rows (mechanism x placement), one bar per message
// size. Left: round trips per second. Right: round-trip latency, a bar to p50 and a whisker on to
// p99. Both axes are logarithmic and span the decades the data needs, no more.
namespace {

struct Axis {
    double lo, hi;  // log10 of the values at the two ends
    double x0, width;
    [[nodiscard]] double at(double v) const {
        const double d = std::clamp(std::log10(std::max(v, 1e-12)), lo, hi);
        return x0 + (d - lo) / (hi - lo) * width;
    }
};

// The ends are the nearest 1, 2 or 5 x 10^k outside the data, so the bars fill the panel.
Axis axis_for(const std::vector<double>& values, double x0, double width) {
    double lo = 1e300, hi = 0;
    for (double v : values)
        if (v > 0) lo = std::min(lo, v), hi = std::max(hi, v);
    if (hi == 0) lo = 1, hi = 10;
    auto down = [](double v) {
        const double d = std::pow(10, std::floor(std::log10(v)));
        return v >= 5 * d ? 5 * d : v >= 2 * d ? 2 * d : d;
    };
    auto up = [](double v) {
        const double d = std::pow(10, std::floor(std::log10(v)));
        return v <= d ? d : v <= 2 * d ? 2 * d : v <= 5 * d ? 5 * d : 10 * d;
    };
    const double l = std::log10(down(lo)), h = std::log10(up(hi));
    return {l, std::max(h, l + 1), x0, width};
}

// 1, 2, 5 x 10^k in short form: "20k", "5M" (rates) or "200 ns", "5 us" (latency in us).
std::string short_number(double v, const char* const* units, int unit_count, double step) {
    int u = 0;
    while (u + 1 < unit_count && v >= step * 0.999) v /= step, ++u;
    char b[32];
    std::snprintf(b, sizeof b, "%g%s", std::round(v * 100) / 100, units[u]);
    return b;
}
std::string rate_tick(double v) {
    static const char* units[] = {"", "k", "M", "G"};
    return short_number(v, units, 4, 1000);
}
std::string latency_tick(double us) {
    static const char* units[] = {" ns", " us", " ms", " s"};
    return short_number(us * 1000, units, 4, 1000);
}

// Grid lines at 1, 2 and 5 x 10^k; every power of ten labelled, 2 and 5 where the label fits.
void draw_axis(std::FILE* out, const Axis& a, double top, double bottom, const std::string& title,
               std::string (*tick)(double)) {
    std::vector<double> xs;
    std::vector<std::string> labels;
    std::vector<bool> majors;
    for (double d = std::floor(a.lo); d <= a.hi + 1e-9; ++d)
        for (double m : {1.0, 2.0, 5.0}) {
            const double v = m * std::pow(10, d), lv = std::log10(v);
            if (lv < a.lo - 1e-9 || lv > a.hi + 1e-9) continue;
            xs.push_back(a.at(v)), labels.push_back(tick(v)), majors.push_back(m == 1);
            std::fprintf(out,
                         "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"%s\"/>\n",
                         xs.back(), top, xs.back(), bottom, m == 1 ? "#bbb" : "#e4e4e4");
        }
    const std::vector<bool> shown = labels_that_fit(xs, labels, majors);
    for (std::size_t i = 0; i < xs.size(); ++i)
        if (shown[i])
            std::fprintf(out, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\"%s>%s</text>\n",
                         xs[i], bottom + 14, majors[i] ? "" : " fill=\"#777\"",
                         xml_text(labels[i]).c_str());
    std::fprintf(
        out, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\" font-weight=\"bold\">%s</text>\n",
        a.x0 + a.width / 2, bottom + 30, xml_text(title).c_str());
}

}  // namespace

void write_svg(std::FILE* out, const Run& run) {
    constexpr double kLabel = 250, kPanel = 380, kGap = 70, kBar = 7, kTop = 50;
    const char* colours[] = {"#4878a8", "#e0823d", "#6aa84f", "#a64d79", "#999999"};
    const std::size_t nsizes = std::min<std::size_t>(run.sizes.size(), 5);
    struct Line {
        const Mechanism* mech;
        const Placement* where;
        std::vector<const Row*> by_size;  // null: not measured at that size
    };
    std::vector<Line> lines;
    std::vector<double> rates, latencies;
    for (const auto& m : mechanisms())
        for (const auto& p : run.placements) {
            Line l{&m, &p, std::vector<const Row*>(nsizes, nullptr)};
            bool any = false;
            for (const auto& r : run.rows) {
                if (r.mech != &m || r.where != &p || !r.pingpong || !r.pingpong->ok()) continue;
                for (std::size_t i = 0; i < nsizes; ++i)
                    if (run.sizes[i] == r.size && (!m.fixed_size || i == 0)) {
                        l.by_size[i] = &r, any = true;
                        rates.push_back(r.pingpong->rate.median);
                        latencies.push_back(r.pingpong->p50_us),
                            latencies.push_back(r.pingpong->p99_us);
                    }
            }
            if (any) lines.push_back(std::move(l));
        }
    const double row_h = double(nsizes) * kBar + 6;
    const double bottom = kTop + double(lines.size()) * row_h + 4;
    const Axis rate = axis_for(rates, kLabel, kPanel);
    const Axis lat = axis_for(latencies, kLabel + kPanel + kGap, kPanel);
    const double width = kLabel + 2 * kPanel + kGap + 20, height = bottom + 70;
    std::fprintf(out,
                 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                 "font-family=\"sans-serif\" font-size=\"11\">\n",
                 width, height);
    std::fprintf(out,
                 "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n<text x=\"10\" y=\"18\" "
                 "font-size=\"13\">%s</text>\n",
                 xml_text("ipc_bench ping-pong: round trips per second and round-trip latency - " +
                          run.machine.cpu_model + ", " + run.machine.date)
                     .c_str());
    std::fprintf(
        out, "<text x=\"10\" y=\"34\">%s</text>\n",
        xml_text("log scales; latency bar = p50, whisker to p99; one bar per message size:")
            .c_str());
    for (std::size_t i = 0; i < nsizes; ++i)
        std::fprintf(out,
                     "<rect x=\"%.0f\" y=\"25\" width=\"10\" height=\"10\" fill=\"%s\"/>"
                     "<text x=\"%.0f\" y=\"34\">%s</text>\n",
                     430 + double(i) * 70, colours[i], 444 + double(i) * 70,
                     xml_text(size_name(run.sizes[i])).c_str());
    draw_axis(out, rate, kTop - 4, bottom, "round trips per second (more is better)", rate_tick);
    draw_axis(out, lat, kTop - 4, bottom, "round-trip latency, p50 and p99 (less is better)",
              latency_tick);
    double y = kTop;
    for (const Line& l : lines) {
        std::fprintf(out, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%s</text>\n", kLabel - 6,
                     y + row_h / 2 + 1,
                     xml_text(std::string(l.mech->label) + " (" + l.where->name + ")").c_str());
        for (std::size_t i = 0; i < nsizes; ++i) {
            const Row* r = l.by_size[i];
            const double by = y + double(i) * kBar;
            if (!r) continue;
            const Measured& m = *r->pingpong;
            std::fprintf(
                out, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.1f\" height=\"%.0f\" fill=\"%s\"/>\n",
                kLabel, by, rate.at(m.rate.median) - kLabel, kBar - 1, colours[i]);
            std::fprintf(out,
                         "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.1f\" height=\"%.0f\" fill=\"%s\"/>"
                         "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>"
                         "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"%s\"/>\n",
                         lat.x0, by, lat.at(m.p50_us) - lat.x0, kBar - 1, colours[i],
                         lat.at(m.p50_us), by + kBar / 2 - 0.5, lat.at(m.p99_us),
                         by + kBar / 2 - 0.5, colours[i], lat.at(m.p99_us), by, lat.at(m.p99_us),
                         by + kBar - 1, colours[i]);
        }
        y += row_h;
    }
    std::fprintf(out, "</svg>\n");
}

void write_lab_svg(std::FILE* out, const std::vector<LabRow>& rows, const Machine& machine,
                   std::size_t size) {
    constexpr double kLabel = 380, kPanel = 560, kBar = 11, kTop = 50;
    const char* colours[] = {"#4878a8", "#e0823d", "#6aa84f", "#a64d79", "#999999"};
    std::vector<std::string> mechs;
    std::vector<double> values;
    // Untimed rows (the peers' loop) have no percentiles: their bar is the mean, 1 / rate.
    auto p50 = [](const LabRow& r) {
        return r.timed ? r.m.p50_us * r.factor : 1e6 / r.m.rate.median * r.factor;
    };
    for (const auto& r : rows) {
        if (std::find(mechs.begin(), mechs.end(), r.mechanism) == mechs.end())
            mechs.push_back(r.mechanism);
        values.push_back(p50(r));
        if (r.timed) values.push_back(r.m.p99_us * r.factor);
    }
    const double bottom = kTop + double(rows.size()) * (kBar + 3) + double(mechs.size()) * 6 + 4;
    const Axis lat = axis_for(values, kLabel, kPanel);
    std::fprintf(out,
                 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                 "font-family=\"sans-serif\" font-size=\"11\">\n"
                 "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
                 kLabel + kPanel + 30, bottom + 70);
    std::fprintf(out, "<text x=\"10\" y=\"18\" font-size=\"13\">%s</text>\n",
                 xml_text("ipc_bench --lab: one " + size_name(size) +
                          " ping-pong, measured the ways benchmarks measure it - " +
                          machine.cpu_model + ", " + machine.date)
                     .c_str());
    std::fprintf(out, "<text x=\"10\" y=\"34\">%s</text>\n",
                 xml_text("log scale; bar = p50 (peers' loop: total time / count), whisker to p99; "
                          "one colour per mechanism")
                     .c_str());
    draw_axis(out, lat, kTop - 4, bottom,
              "round trip (half round trip where the row says so), less is better", latency_tick);
    double y = kTop;
    std::string last;
    for (const auto& r : rows) {
        if (r.mechanism != last && !last.empty()) y += 6;
        last = r.mechanism;
        const auto at = std::find(mechs.begin(), mechs.end(), r.mechanism) - mechs.begin();
        const char* colour = colours[std::size_t(at) % 5];
        std::fprintf(out, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%s</text>\n", kLabel - 6,
                     y + kBar - 2, xml_text(r.mechanism + ": " + r.method).c_str());
        const double x50 = lat.at(p50(r));
        std::fprintf(out,
                     "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.1f\" height=\"%.0f\" fill=\"%s\"/>\n",
                     kLabel, y, x50 - kLabel, kBar, colour);
        if (r.timed) {
            const double x99 = lat.at(r.m.p99_us * r.factor);
            std::fprintf(out,
                         "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>"
                         "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"%s\"/>\n",
                         x50, y + kBar / 2, x99, y + kBar / 2, colour, x99, y, x99, y + kBar,
                         colour);
        }
        y += kBar + 3;
    }
    std::fprintf(out, "</svg>\n");
}

}  // namespace bench
