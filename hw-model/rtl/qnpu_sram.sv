// On-chip SRAM: NumWr write ports (a higher index wins on the same word),
// NumRd combinational read ports, Words a power of two. In silicon the
// multi-ported ABUF would be banked by array row and OBUF by row parity;
// the simulation model keeps one array.

module qnpu_sram #(
  parameter int unsigned Words = 256,
  parameter int unsigned Width = 128,
  parameter int unsigned NumRd = 1,
  parameter int unsigned NumWr = 1,
  localparam int unsigned Aw = $clog2(Words)
) (
  input  logic             clk_i,
  input  logic             we_i [NumWr],
  input  logic [Aw-1:0]    waddr_i [NumWr],
  input  logic [Width-1:0] wdata_i [NumWr],
  input  logic [Aw-1:0]    raddr_i [NumRd],
  output logic [Width-1:0] rdata_o [NumRd]
);
  logic [Width-1:0] mem_q [Words];

  // NumWr is at most a few ports: the loop is unrolled
  always_ff @(posedge clk_i) begin
    for (int unsigned w = 0; w < NumWr; w++) begin
      if (we_i[w]) begin
        mem_q[waddr_i[w]] <= wdata_i[w];
      end
    end
  end

  always_comb begin
    for (int unsigned i = 0; i < NumRd; i++) begin
      rdata_o[i] = mem_q[raddr_i[i]];
    end
  end
endmodule
