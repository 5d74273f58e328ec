package org.oscircular.simulator;

import java.util.List;
import java.util.Locale;

/** Minimal line plots as inline SVG, so a report is one self-contained HTML file. */
final class Svg {
    private static final int W = 720;
    private static final int H = 360;
    private static final int PAD = 56;

    private Svg() {}

    static String plot(List<List<double[]>> series, String[] colors, String[] names, String xLabel, String yLabel) {
        double maxX = 0;
        double maxY = 0;
        for (List<double[]> s : series) {
            for (double[] p : s) {
                maxX = Math.max(maxX, p[0]);
                maxY = Math.max(maxY, p[1]);
            }
        }
        maxX = maxX <= 0 ? 1 : maxX;
        maxY = maxY <= 0 ? 1 : maxY * 1.05;
        StringBuilder b = new StringBuilder();
        b.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(W).append("\" height=\"").append(H)
                .append("\" font-size=\"12\">");
        b.append("<rect x=\"").append(PAD).append("\" y=\"10\" width=\"").append(W - PAD - 10).append("\" height=\"")
                .append(H - PAD - 10).append("\" fill=\"none\" stroke=\"#888\"/>");
        for (int t = 0; t <= 4; t++) {
            double fx = t / 4.0;
            int x = (int) (PAD + fx * (W - PAD - 10));
            int y = (int) (H - PAD - fx * (H - PAD - 10));
            b.append(text(x, H - PAD + 16, num(fx * maxX), "middle"));
            b.append(text(PAD - 4, y + 4, num(fx * maxY), "end"));
        }
        b.append(text((W + PAD) / 2, H - 12, xLabel, "middle"));
        b.append("<text x=\"14\" y=\"").append(H / 2).append("\" transform=\"rotate(-90 14 ").append(H / 2)
                .append(")\" text-anchor=\"middle\">").append(yLabel).append("</text>");
        for (int i = 0; i < series.size(); i++) {
            b.append("<polyline fill=\"none\" stroke-width=\"1.5\" stroke=\"").append(colors[i]).append("\" points=\"");
            for (double[] p : series.get(i)) {
                double x = PAD + p[0] / maxX * (W - PAD - 10);
                double y = H - PAD - p[1] / maxY * (H - PAD - 10);
                b.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
            }
            b.append("\"/>");
            b.append("<text x=\"").append(W - 120).append("\" y=\"").append(28 + 16 * i).append("\" fill=\"")
                    .append(colors[i]).append("\">").append(names[i]).append("</text>");
        }
        return b.append("</svg>").toString();
    }

    private static String text(int x, int y, String s, String anchor) {
        return "<text x=\"" + x + "\" y=\"" + y + "\" text-anchor=\"" + anchor + "\">" + s + "</text>";
    }

    private static String num(double v) {
        return v >= 100 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.2f", v);
    }
}
