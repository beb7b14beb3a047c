/** The caption sidecar of a figure (`<id>.caption.txt`): its title, a blank line, the caption. */
export function captionText(f: { title: string; caption: string }): string {
  return `${f.title}\n\n${f.caption}\n`;
}
