import { input, listBlocks, textInput } from '../../blocks/kit';
import { LIMITS } from '../../blocks/text';
import { textObjects } from './fixtures';

const texts = (blocks: ReturnType<typeof listBlocks>) => textObjects(blocks).map((t) => t.text);

describe('listBlocks', () => {
  const long = (n: number) => Array.from({ length: n }, (_, i) => `• item ${i} ${'x'.repeat(1_400)}`); // two per section

  it('packs lines into sections and says how many are left out past maxItems', () => {
    const blocks = listBlocks(long(10), 6);
    expect(blocks.map((b) => b.type)).toEqual(['section', 'section', 'section', 'context']);
    expect(texts(blocks).at(-1)).toBe('…and 4 more.');
  });

  it('with maxBlocks, keeps room for "…and N more" and counts what did not fit', () => {
    const blocks = listBlocks(long(10), 100, 3);
    expect(blocks).toHaveLength(3);
    expect(texts(blocks).at(-1)).toBe('…and 6 more.');
    expect(texts(blocks).join('\n')).toContain('item 3 ');
    expect(texts(blocks).join('\n')).not.toContain('item 4 ');
  });

  it('uses every block when everything fits exactly', () => {
    const blocks = listBlocks(long(6), 100, 3);
    expect(blocks.map((b) => b.type)).toEqual(['section', 'section', 'section']);
  });

  it('without maxBlocks behaves as before', () => {
    expect(listBlocks(long(200), 200)).toHaveLength(100);
  });
});

describe('textInput / input', () => {
  it('cuts an initial value to max_length and leaves out an empty one', () => {
    expect(textInput('a', 'p', { initialValue: 'y'.repeat(600), maxLength: 500 }).initial_value).toHaveLength(500);
    expect(textInput('a', 'p', { initialValue: '' })).not.toHaveProperty('initial_value');
    expect(textInput('a', 'p', { initialValue: 'z'.repeat(5_000) }).initial_value!.length).toBe(LIMITS.inputValue);
  });

  it('builds an input block with optional and hint only when asked', () => {
    const block = input('b', 'Label', textInput('a', 'p'));
    expect(block).toEqual({ type: 'input', block_id: 'b', label: { type: 'plain_text', text: 'Label', emoji: true }, element: expect.objectContaining({ action_id: 'a' }) });
    expect(input('b', 'L', textInput('a', 'p'), { optional: true, hint: 'h' })).toMatchObject({ optional: true, hint: { text: 'h' } });
  });
});
