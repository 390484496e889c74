export function Badge({ value }: { value: string }) {
  return <span className={`badge badge-${value.replace(/[^a-z_-]/gi, "")}`}>{value.replace(/_/g, " ")}</span>;
}
