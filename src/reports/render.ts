// A report in the format asked for. JSON is the FleetReport itself (docs/reports.md, "Report JSON").
import type { FleetReport } from "./model.ts";
import { renderReportHtml } from "./render-html.ts";
import { renderReportMarkdown } from "./render-markdown.ts";
import { renderReportText } from "./render-text.ts";

export const REPORT_FORMATS = ["text", "markdown", "html", "json"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface ReportRenderOptions {
  /** The dashboard's public URL: stacks, runs and audit entries link there. */
  baseUrl?: string;
}

export function renderReport(report: FleetReport, format: ReportFormat, options: ReportRenderOptions = {}): string {
  switch (format) {
    case "text":
      return renderReportText(report);
    case "markdown":
      return renderReportMarkdown(report, options);
    case "html":
      return renderReportHtml(report, options);
    case "json":
      return `${JSON.stringify(report, null, 2)}\n`;
  }
}
