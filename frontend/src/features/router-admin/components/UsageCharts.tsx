import { useMemo, useState } from "react";
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import {
  formatCompact,
  formatCount,
  formatDay,
  formatUsd,
  formatUsdAxis,
  OTHER,
  usageByDay,
  type DayPoint,
  type GroupBy,
  type Series,
  type UsageRow,
} from "../usage";

const PALETTE = ["#2f5bd3", "#157347", "#d97706", "#9333ea", "#0891b2", "#db2777", "#65a30d", "#b42318"];
const OTHER_COLOUR = "#9aa3b2";
const GROUPS: { value: GroupBy; label: string }[] = [
  { value: "model", label: "Model" },
  { value: "tenant", label: "Tenant" },
  { value: "agent", label: "Agent" },
];

function colour(series: Series, index: number): string {
  return series.name === OTHER ? OTHER_COLOUR : PALETTE[index % PALETTE.length];
}

function DayChart({
  title,
  unit,
  testId,
  data,
  series,
  format,
  tick,
}: {
  title: string;
  unit: string;
  testId: string;
  data: DayPoint[];
  series: Series[];
  format: (value: number) => string;
  tick: (value: number) => string;
}) {
  const total = data.reduce((sum, point) => sum + point.total, 0);
  return (
    <figure className="ra-chart" data-testid={testId}>
      <figcaption>{title}</figcaption>
      <div className="ra-chart-box">
        <ResponsiveContainer width="100%" height="100%" minWidth={0} initialDimension={{ width: 320, height: 240 }}>
          <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: 4 }}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            <XAxis
              dataKey="day"
              tickFormatter={(day: string) => formatDay(day)}
              minTickGap={16}
              tick={{ fontSize: 12 }}
            />
            <YAxis
              tickFormatter={(value: number) => tick(value)}
              width={72}
              tick={{ fontSize: 12 }}
              label={{ value: unit, angle: -90, position: "insideLeft", style: { fontSize: 12, textAnchor: "middle" } }}
            />
            <Tooltip
              formatter={(value) => format(Number(value))}
              labelFormatter={(label) => `${formatDay(String(label))} (UTC)`}
            />
            <Legend wrapperStyle={{ fontSize: 12 }} />
            {series.map((s, i) => (
              <Bar
                key={s.dataKey}
                dataKey={s.dataKey}
                name={s.name}
                stackId="usage"
                fill={colour(s, i)}
                isAnimationActive={false}
              />
            ))}
          </BarChart>
        </ResponsiveContainer>
      </div>
      <p className="ra-sr-only">
        {title}: {format(total)} in total over {data.length} day{data.length === 1 ? "" : "s"}, by{" "}
        {series.map((s) => s.name).join(", ")}.
      </p>
    </figure>
  );
}

/** Cost and tokens per UTC day as stacked bars, one colour per model, tenant or agent. */
export function UsageCharts({ rows, from, to }: { rows: readonly UsageRow[]; from?: string; to?: string }) {
  const [groupBy, setGroupBy] = useState<GroupBy>("model");
  const byDay = useMemo(() => usageByDay(rows, groupBy, { from, to }), [rows, groupBy, from, to]);

  return (
    <div className="ra-charts" data-testid="usage-chart">
      <div className="row spread">
        <h3 className="ra-subhead">Usage per day (UTC)</h3>
        <div className="ra-switch" role="group" aria-label="Group charts by">
          {GROUPS.map((g) => (
            <button
              key={g.value}
              type="button"
              className={groupBy === g.value ? "small-btn" : "secondary small-btn"}
              aria-pressed={groupBy === g.value}
              onClick={() => setGroupBy(g.value)}
            >
              By {g.label.toLowerCase()}
            </button>
          ))}
        </div>
      </div>
      {byDay.series.length === 0 ? (
        <p className="muted ra-chart-empty" data-testid="usage-chart-empty">
          No model calls in this range, so nothing to chart yet.
        </p>
      ) : (
        <div className="ra-chart-grid">
          <DayChart
            title="Cost per day (USD)"
            unit="USD"
            testId="usage-chart-cost"
            data={byDay.cost}
            series={byDay.series}
            format={formatUsd}
            tick={formatUsdAxis}
          />
          <DayChart
            title="Tokens per day"
            unit="Tokens"
            testId="usage-chart-tokens"
            data={byDay.tokens}
            series={byDay.series}
            format={formatCount}
            tick={formatCompact}
          />
        </div>
      )}
    </div>
  );
}
