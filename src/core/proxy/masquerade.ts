/** The masquerade mark as kube-proxy prints it: fmt.Sprintf("%#08x", 1<<bit), "0x00004000" for bit 14. */
export function formatMasqueradeMark(bit: number): string {
  return '0x' + (2 ** bit).toString(16).padStart(8, '0');
}
