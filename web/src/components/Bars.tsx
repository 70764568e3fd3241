// Horizontal bars: one labelled value per row, scaled to the largest.
import { formatCount } from '../lib/format';

export function Bars({ rows, label }: { rows: [string, number][]; label: string }) {
  const max = Math.max(1, ...rows.map(([, v]) => v));
  return (
    <ul className="bars" aria-label={label}>
      {rows.map(([name, value]) => (
        <li key={name}>
          <span className="bar-label">{name}</span>
          <span className="bar" style={{ width: `${(value / max) * 100}%` }} />
          <span className="bar-value">{formatCount(value)}</span>
        </li>
      ))}
    </ul>
  );
}
