/**
 * Page planning for the signature appendix. Every line of the appendix has the same height, so
 * the number of pages follows from the number of named signatories and region rows alone; that
 * is what lets each page print "n / N" while the rows are still being streamed.
 *
 * The appendix is a run of lines: the named signatories, then the totals by region (a title, a
 * column header, one line per region and a total line). Every page starts with a header band (the
 * appendix title, then the column header of the table that continues on it), so a table's header
 * repeats on every page it spans. The first page also carries a fixed summary box.
 */
export type AppendixLine = 'name' | 'regions-title' | 'regions-header' | 'region';

export type AppendixCapacity = {
  /** Lines on the first appendix page, below the summary. */
  first: number;
  /** Lines on every further page. */
  next: number;
};

/** The column header a page's header band shows: that of the table continuing at its top, if any. */
export type PageHeader = 'names' | 'regions' | 'none';

export type Placement = { newPage: boolean; header: PageHeader; slot: number };

// The regions title, its column header and at least one row stay together, after a blank line
// when they start below the names.
const regionsBlock = 4;

/**
 * Places appendix lines one after the other. The renderer and `countAppendixPages` both use it,
 * so the count printed on page 1 always matches the pages written.
 */
export class AppendixCursor {
  pages = 0;
  private slot = 0;
  private capacity = 0;

  constructor(private readonly lines: AppendixCapacity) {}

  private get pageFull(): boolean {
    return this.pages === 0 || this.slot >= this.capacity;
  }

  private openPage(): void {
    this.capacity = this.pages === 0 ? this.lines.first : this.lines.next;
    this.pages++;
    this.slot = 0;
  }

  /** Where the next line of `kind` goes; opens a page when needed. */
  place(kind: AppendixLine): Placement {
    if (kind === 'regions-title' && !this.pageFull && this.slot > 0) {
      if (this.capacity - this.slot >= regionsBlock) this.slot++;
      else this.slot = this.capacity;
    }
    const newPage = this.pageFull;
    if (newPage) this.openPage();
    const header: PageHeader = !newPage ? 'none' : kind === 'name' ? 'names' : kind === 'region' ? 'regions' : 'none';
    return { newPage, header, slot: this.slot++ };
  }

  /** Places `count` name lines without reporting each (for counting pages). */
  skipNames(count: number): void {
    let left = count;
    while (left > 0) {
      if (this.pageFull) this.openPage();
      const take = Math.min(left, this.capacity - this.slot);
      this.slot += take;
      left -= take;
    }
  }
}

/** The lines of the regions table for `regions` regions: title, header, one per region, total. */
export function regionLines(regions: number): AppendixLine[] {
  return ['regions-title', 'regions-header', ...Array<AppendixLine>(regions + 1).fill('region')];
}

/** Pages the appendix takes for `listed` named signatories and `regions` regions. */
export function countAppendixPages(listed: number, regions: number, capacity: AppendixCapacity): number {
  const cursor = new AppendixCursor(capacity);
  cursor.skipNames(listed);
  for (const line of regionLines(regions)) cursor.place(line);
  return cursor.pages;
}
