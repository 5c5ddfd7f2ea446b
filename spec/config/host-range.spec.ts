/** Host ranges (ClusterShell's NodeSet syntax): expanding, folding back, and the errors. */
import { describe, expect, it } from 'vitest';
import { expandHostRange, foldHosts } from '../../lib/config/host-range.js';

describe('expandHostRange', () => {
  it.each([
    ['web[01-03].example', ['web01.example', 'web02.example', 'web03.example']],
    ['10.0.0.[1-3]', ['10.0.0.1', '10.0.0.2', '10.0.0.3']],
    ['db[1,3,5-7]', ['db1', 'db3', 'db5', 'db6', 'db7']],
    ['r[1-2]n[08-10]', ['r1n08', 'r1n09', 'r1n10', 'r2n08', 'r2n09', 'r2n10']],
    ['n[1-9/4]', ['n1', 'n5', 'n9']],
    ['deploy@web[8-10]:2222', ['deploy@web8:2222', 'deploy@web9:2222', 'deploy@web10:2222']],
    ['plain.example', ['plain.example']],
    ['[::1]:2222', ['[::1]:2222']],
    ['user@[fe80::1%eth0]', ['user@[fe80::1%eth0]']],
    ['web[007]', ['web007']],
  ])('%s', (spec, names) => {
    expect(expandHostRange(spec)).toEqual(names);
  });

  it.each([
    ['web[3-1]', /runs backwards/],
    ['web[1-]', /not a number or a range/],
    ['web[a-c]', /not a range of numbers/],
    ['web[1-3', /not a range of numbers/],
    ['web1-3]', /not a range of numbers/],
    ['web[]', /not a number or a range/],
    ['web[1-9/0]', /step/],
  ])('%s is a RangeError naming it', (spec, why) => {
    expect(() => expandHostRange(spec)).toThrow(RangeError);
    expect(() => expandHostRange(spec)).toThrow(why);
  });

  it('an expansion beyond the bound is refused before it is made', () => {
    expect(() => expandHostRange('n[1-1000]m[1-1000]')).toThrow(/expands to 1000000 names, more than 100000/);
    expect(expandHostRange('n[1-1000]', 1000)).toHaveLength(1000);
    expect(() => expandHostRange('n[1-1001]', 1000)).toThrow(RangeError);
  });
});

describe('foldHosts', () => {
  it('folds names that differ in their last number, keeping padding, ranges and gaps', () => {
    const names = [...Array.from({ length: 40 }, (_, i) => `web${String(i + 1).padStart(2, '0')}.example`), 'web45.example'];
    expect(foldHosts(names)).toBe('web[01-40,45].example');
    expect(foldHosts(['db1', 'db2', 'db10', 'bastion', 'web01', 'web1'])).toBe('bastion,db[1-2,10],web01,web1');
    expect(foldHosts(['10.0.0.3', '10.0.0.1', '10.0.0.2'])).toBe('10.0.0.[1-3]');
  });

  it('what it folds expands back to the same names', () => {
    const names = ['r1n08', 'r1n09', 'r1n10', 'x7', 'x9', 'solo'];
    const folded = foldHosts(names);
    expect(folded.split(/,(?![^[]*\])/).flatMap((s) => expandHostRange(s)).sort()).toEqual([...names].sort());
  });
});

describe('foldHosts with more than one number', () => {
  it('folds the number that varies: addresses with a port, racks and nodes', () => {
    expect(foldHosts(Array.from({ length: 10 }, (_, i) => `127.0.0.${i + 2}:40022`))).toBe('127.0.0.[2-11]:40022');
    expect(foldHosts(['r1n01', 'r1n02', 'r1n03', 'r2n01'])).toBe('r1n[01-03],r2n01');
    expect(foldHosts(['web1:22', 'web1:2222'])).toBe('web1:[22,2222]');
  });
});
