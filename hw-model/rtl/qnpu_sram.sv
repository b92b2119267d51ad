// On-chip SRAM: NumWr write ports (a higher index wins on the same word),
// NumRd combinational read ports, Words a power of two. Ports NumRdOn and
// above are read only while rd_more_i (a read enable, as a banked SRAM's
// extra ports have); otherwise they keep their last data, which no one
// uses then, and the simulation skips them. In silicon the
// multi-ported ABUF would be banked by array row and OBUF by row parity;
// the simulation model keeps one array.
// A valid bit per word, cleared by reset (the device resets the core before
// every job), makes words not yet written in this job read as zero, so no
// data survives from one job (and one context) to the next.

module qnpu_sram #(
  parameter int unsigned Words = 256,
  parameter int unsigned Width = 128,
  parameter int unsigned NumRd = 1,
  parameter int unsigned NumWr = 1,
  parameter int unsigned NumRdOn = NumRd,
  localparam int unsigned Aw = $clog2(Words)
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  input  logic             we_i [NumWr],
  input  logic [Aw-1:0]    waddr_i [NumWr],
  input  logic [Width-1:0] wdata_i [NumWr],
  input  logic             rd_more_i,
  input  logic [Aw-1:0]    raddr_i [NumRd],
  output logic [Width-1:0] rdata_o [NumRd]
);
  logic [Width-1:0] mem_q [Words];
  logic [Words-1:0] valid_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      valid_q <= '0;
    end else begin
      for (int unsigned w = 0; w < NumWr; w++) begin
        if (we_i[w]) begin
          valid_q[waddr_i[w]] <= 1'b1;
        end
      end
    end
  end

  // NumWr is at most a few ports: the loop is unrolled
  always_ff @(posedge clk_i) begin
    for (int unsigned w = 0; w < NumWr; w++) begin
      if (we_i[w]) begin
        mem_q[waddr_i[w]] <= wdata_i[w];
      end
    end
  end

  always_comb begin
    for (int unsigned i = 0; i < (rd_more_i ? NumRd : NumRdOn); i++) begin
      rdata_o[i] = valid_q[raddr_i[i]] ? mem_q[raddr_i[i]] : '0;
    end
  end
endmodule
