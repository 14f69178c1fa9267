//! Huffman decoding of JPEG entropy-coded data: a 64-bit bit reader that un-stuffs 0xFF00
//! and stops at markers, and canonical Huffman tables with a lookahead table so most codes
//! decode with a single lookup. Skipping AC coefficients — the DC-only decoder's hot loop —
//! costs one lookup and one shift per coefficient.

use crate::{Error, Result};

const LOOKAHEAD: u32 = 10;

/// A canonical Huffman table (JPEG Annex C), ready for decoding.
#[derive(Clone)]
pub struct HuffmanTable {
    /// For each LOOKAHEAD-bit prefix: code length (0 = longer code) and symbol.
    fast: Vec<(u8, u8)>,
    /// Largest code of each length 1..=16, or -1 when there is none.
    max_code: [i32; 18],
    /// Per length: index into `symbols` minus the first code of that length.
    offset: [i32; 17],
    symbols: Vec<u8>,
}

impl HuffmanTable {
    /// Builds a table from the DHT counts (codes per length 1..=16) and symbols.
    pub fn new(counts: &[u8; 16], symbols: &[u8]) -> Result<Self> {
        let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
        if total > 256 || total != symbols.len() {
            return Err(Error::corrupt("JPEG Huffman table has an invalid size"));
        }
        let mut fast = vec![(0u8, 0u8); 1 << LOOKAHEAD];
        let mut max_code = [-1i32; 18];
        let mut offset = [0i32; 17];
        let mut code: i32 = 0;
        let mut index: i32 = 0;
        for length in 1..=16u32 {
            let count = i32::from(counts[length as usize - 1]);
            offset[length as usize] = index - code;
            for _ in 0..count {
                // A code space that overflows its length is not a prefix code.
                if code >= (1 << length) {
                    return Err(Error::corrupt(
                        "JPEG Huffman table is not a valid prefix code",
                    ));
                }
                if length <= LOOKAHEAD {
                    let shift = LOOKAHEAD - length;
                    let first = (code as usize) << shift;
                    for entry in &mut fast[first..first + (1 << shift)] {
                        *entry = (length as u8, symbols[index as usize]);
                    }
                }
                code += 1;
                index += 1;
            }
            if count > 0 {
                max_code[length as usize] = code - 1;
            }
            // A code space that overflows its length is not a prefix code.
            if code > (1 << length) {
                return Err(Error::corrupt(
                    "JPEG Huffman table is not a valid prefix code",
                ));
            }
            code <<= 1;
        }
        max_code[17] = i32::MAX;
        Ok(HuffmanTable {
            fast,
            max_code,
            offset,
            symbols: symbols.to_vec(),
        })
    }
}

/// Reads bits MSB-first from entropy-coded data.
pub struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
    bits: u64,
    count: u32,
    /// Set once a marker (or the end of data) is reached: further bits read as zeros.
    hit_marker: bool,
    /// Zero bits handed out past the marker: a scan that needs many is truncated.
    padding: u32,
}

impl<'a> BitReader<'a> {
    pub fn new(data: &'a [u8], pos: usize) -> Self {
        BitReader {
            data,
            pos,
            bits: 0,
            count: 0,
            hit_marker: false,
            padding: 0,
        }
    }

    /// Offset of the marker that ends the entropy-coded data this reader is in.
    pub fn end_of_scan(&self) -> usize {
        next_marker(self.data, self.pos)
    }

    /// Tops the buffer up to at least 57 bits.
    #[inline(always)]
    fn refill(&mut self) {
        // Fast path: eight plain bytes with no 0xFF among them.
        if self.count <= 56 && !self.hit_marker && self.pos + 8 <= self.data.len() {
            let chunk = u64::from_be_bytes(self.data[self.pos..self.pos + 8].try_into().unwrap());
            // Has-zero-byte trick on the complement: detects any 0xFF byte.
            let inverted = !chunk;
            let has_ff =
                inverted.wrapping_sub(0x0101_0101_0101_0101) & !inverted & 0x8080_8080_8080_8080;
            if has_ff == 0 {
                let take = (63 - self.count) / 8;
                let add = chunk >> (64 - 8 * take);
                self.bits |= add << (64 - self.count - 8 * take);
                self.count += 8 * take;
                self.pos += take as usize;
                return;
            }
        }
        while self.count <= 56 {
            let byte = if self.hit_marker {
                self.padding += 8;
                0
            } else if let Some(&b) = self.data.get(self.pos) {
                if b == 0xFF {
                    match self.data.get(self.pos + 1) {
                        Some(0x00) => {
                            self.pos += 2;
                            0xFF
                        }
                        _ => {
                            self.hit_marker = true;
                            self.padding += 8;
                            0
                        }
                    }
                } else {
                    self.pos += 1;
                    b
                }
            } else {
                self.hit_marker = true;
                self.padding += 8;
                0
            };
            self.bits |= u64::from(byte) << (56 - self.count);
            self.count += 8;
        }
    }

    #[inline(always)]
    fn consume(&mut self, n: u32) {
        self.bits <<= n;
        self.count -= n;
    }

    /// Reads `n` ≤ 16 bits as an unsigned number.
    #[inline(always)]
    pub fn bits(&mut self, n: u32) -> u32 {
        if n == 0 {
            return 0;
        }
        if self.count < n {
            self.refill();
        }
        let value = (self.bits >> (64 - n)) as u32;
        self.consume(n);
        value
    }

    /// Reads `n` bits and sign-extends them as JPEG's EXTEND procedure (F.2.2.1) says.
    #[inline(always)]
    pub fn receive_extend(&mut self, n: u32) -> i32 {
        if n == 0 {
            return 0;
        }
        let value = self.bits(n) as i32;
        if value < (1 << (n - 1)) {
            value - (1 << n) + 1
        } else {
            value
        }
    }

    /// Decodes one Huffman symbol.
    #[inline(always)]
    pub fn decode(&mut self, table: &HuffmanTable) -> Result<u8> {
        if self.count < 16 {
            self.refill();
        }
        let (length, symbol) = table.fast[(self.bits >> (64 - LOOKAHEAD)) as usize];
        if length != 0 {
            self.consume(u32::from(length));
            return Ok(symbol);
        }
        self.decode_slow(table)
    }

    fn decode_slow(&mut self, table: &HuffmanTable) -> Result<u8> {
        for length in LOOKAHEAD + 1..=16 {
            let code = (self.bits >> (64 - length)) as i32;
            if code <= table.max_code[length as usize] {
                self.consume(length);
                let index = (code + table.offset[length as usize]) as usize;
                return table
                    .symbols
                    .get(index)
                    .copied()
                    .ok_or_else(|| Error::corrupt("JPEG data holds an invalid Huffman code"));
            }
        }
        Err(Error::corrupt("JPEG data holds an invalid Huffman code"))
    }

    /// Decodes an AC symbol (run/size) with at least 32 bits left in the buffer after the
    /// refill, so its value bits (at most 15) need no second refill.
    #[inline(always)]
    fn ac_symbol(&mut self, table: &HuffmanTable) -> Result<u8> {
        if self.count < 32 {
            self.refill();
        }
        let (length, symbol) = table.fast[(self.bits >> (64 - LOOKAHEAD)) as usize];
        if length != 0 {
            self.consume(u32::from(length));
            Ok(symbol)
        } else {
            self.decode_slow(table)
        }
    }

    /// Skips the AC coefficients `start..=63` of one block without computing their values:
    /// each code is followed by as many value bits as its symbol's size, and both are
    /// dropped in one step.
    #[inline(always)]
    pub fn skip_ac(&mut self, table: &HuffmanTable, start: u32) -> Result<()> {
        let mut k = start;
        while k <= 63 {
            let symbol = self.ac_symbol(table)?;
            if symbol == 0 {
                break; // end of block
            }
            self.consume(u32::from(symbol & 0x0F));
            k += u32::from(symbol >> 4) + 1;
        }
        Ok(())
    }

    /// Decodes the AC coefficients of one sequential block, adding each one's contribution
    /// to the four quarter averages (`weights` by zigzag index; all zero where a
    /// coefficient does not contribute, which is then skipped like in [`Self::skip_ac`]).
    #[inline(always)]
    pub fn accumulate_ac(
        &mut self,
        table: &HuffmanTable,
        weights: &[[f32; 4]; 64],
        sums: &mut [f32; 4],
    ) -> Result<()> {
        let mut k = 1usize;
        while k <= 63 {
            let symbol = self.ac_symbol(table)?;
            let (run, size) = (usize::from(symbol >> 4), u32::from(symbol & 0x0F));
            if size == 0 {
                if run != 15 {
                    break; // end of block
                }
                k += 16;
                continue;
            }
            k += run;
            let Some(weight) = weights.get(k) else { break };
            if weight[0] == 0.0 {
                self.consume(size);
            } else {
                // At most 16 + 15 bits were consumed since the refill left 32 or more.
                let raw = (self.bits >> (64 - size)) as i32;
                self.consume(size);
                let value = if raw < (1 << (size - 1)) {
                    raw - (1 << size) + 1
                } else {
                    raw
                } as f32;
                for (sum, w) in sums.iter_mut().zip(weight) {
                    *sum += value * w;
                }
            }
            k += 1;
        }
        Ok(())
    }

    /// Whether the reader has run far past the end of the entropy-coded data, which means
    /// the scan was cut short.
    pub fn overran(&self) -> bool {
        self.padding > 64 + self.count
    }

    /// Handles a restart marker: drops the buffered bits (only padding remains of this
    /// interval) and moves past the next RSTn marker. The reader never reads past a marker,
    /// so the marker is at or after `pos`.
    pub fn restart(&mut self) {
        self.pos = next_marker(self.data, self.pos);
        if let Some(0xD0..=0xD7) = self.data.get(self.pos + 1) {
            self.pos += 2;
        }
        self.bits = 0;
        self.count = 0;
        self.padding = 0;
        self.hit_marker = false;
    }
}

/// Offset of the first marker (0xFF not followed by 0x00 or a restart code) at or after
/// `pos`; the data's length when there is none.
pub fn next_segment_marker(data: &[u8], mut pos: usize) -> usize {
    loop {
        pos = next_marker(data, pos);
        match data.get(pos + 1) {
            Some(0xD0..=0xD7) => pos += 2,
            _ => return pos,
        }
    }
}

/// Offset of the first 0xFF not followed by a stuffed 0x00 at or after `pos`.
fn next_marker(data: &[u8], mut pos: usize) -> usize {
    while pos < data.len() {
        match data[pos..].iter().position(|&b| b == 0xFF) {
            None => return data.len(),
            Some(offset) => {
                pos += offset;
                if data.get(pos + 1) != Some(&0x00) {
                    return pos;
                }
                pos += 2;
            }
        }
    }
    data.len()
}
