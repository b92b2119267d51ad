// On-chip SRAM: one write port, NumRd combinational read ports, Words a
// power of two. In silicon the multi-ported ABUF would be banked by array
// row; the simulation model keeps one array.

module qnpu_sram #(
  parameter int unsigned Words = 256,
  parameter int unsigned Width = 128,
  parameter int unsigned NumRd = 1,
  localparam int unsigned Aw = $clog2(Words)
) (
  input  logic             clk_i,
  input  logic             we_i,
  input  logic [Aw-1:0]    waddr_i,
  input  logic [Width-1:0] wdata_i,
  input  logic [Aw-1:0]    raddr_i [NumRd],
  output logic [Width-1:0] rdata_o [NumRd]
);
  logic [Width-1:0] mem_q [Words];

  always_ff @(posedge clk_i) begin
    if (we_i) begin
      mem_q[waddr_i] <= wdata_i;
    end
  end

  always_comb begin
    for (int unsigned i = 0; i < NumRd; i++) begin
      rdata_o[i] = mem_q[raddr_i[i]];
    end
  end
endmodule
