// A time-series line chart (uPlot): x in seconds since the epoch, one series per name.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const palette = ['#4f6df5', '#e5484d', '#30a46c', '#f5a524', '#8e4ec6', '#0091ff', '#d6409f', '#6e56cf'];

export function TimeChart(props: {
  label: string;
  times: number[];
  series: Record<string, number[]>;
  height?: number;
  bars?: boolean;
}) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const names = Object.keys(props.series).sort();
  const key = names.join('\u0000');
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(300, el.clientWidth),
      height: props.height ?? 220,
      series: [
        {},
        ...names.map((name, i) => ({
          label: name,
          stroke: palette[i % palette.length],
          width: 2,
          ...(props.bars ? { paths: uPlot.paths.bars?.({ size: [0.6, 40] }), fill: palette[i % palette.length] } : {}),
        })),
      ],
      // One point alone would stretch the time axis over years: show the hour around it.
      scales: { x: { time: true, range: (_u, min, max) => (min === max ? [min - 3600, max + 3600] : [min, max]) } },
      axes: [{ stroke: 'currentColor' }, { stroke: 'currentColor' }],
      legend: { live: false },
    };
    plot.current = new uPlot(opts, [props.times, ...names.map((n) => props.series[n] ?? [])], el);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(300, el.clientWidth), height: props.height ?? 220 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // A new chart only when the set of series changes; data updates below.
  }, [key, props.bars, props.height]);
  useEffect(() => {
    plot.current?.setData([props.times, ...names.map((n) => props.series[n] ?? [])]);
  });
  return <div className="chart" ref={host} role="img" aria-label={props.label} />;
}
