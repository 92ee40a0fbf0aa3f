import { cidrContains, cidrHasIp, cidrHost, cidrsOverlap, cidrSubnet, parseCidr } from "../modules/network/cidr";
import { carveGatewaySubnets, carvePrivateSubnets, carvePublicSubnets } from "../modules/network/layout";

describe("parseCidr", () => {
  test.each([
    ["10.0.0.0/16", { base: 0x0a000000, prefix: 16 }],
    ["0.0.0.0/0", { base: 0, prefix: 0 }],
    ["255.255.255.255/32", { base: 0xffffffff, prefix: 32 }],
  ])("%s", (cidr, expected) => expect(parseCidr(cidr)).toEqual(expected));

  test.each([
    ["10.0.0/16", /form a\.b\.c\.d\/n/],
    ["10.0.0.0", /form/],
    ["10.0.0.256/32", /0-255/],
    ["10.01.0.0/16", /leading zero/],
    ["10.0.0.0/33", /\/33; it must be 0-32/],
    ["10.0.0.1/24", /network address is 10\.0\.0\.0\/24/],
    [" 10.0.0.0/16", /form/],
  ])("rejects %s", (cidr, reason) => expect(parseCidr(cidr)).toMatch(reason));
});

describe("containment and overlap", () => {
  test("contains", () => {
    expect(cidrContains("10.0.0.0/16", "10.0.255.0/24")).toBe(true);
    expect(cidrContains("10.0.0.0/16", "10.0.0.0/16")).toBe(true);
    expect(cidrContains("10.0.0.0/16", "10.1.0.0/24")).toBe(false);
    expect(cidrContains("10.0.0.0/24", "10.0.0.0/16")).toBe(false);
    expect(cidrContains("0.0.0.0/0", "203.0.113.0/24")).toBe(true);
  });
  test("overlap is symmetric", () => {
    expect(cidrsOverlap("10.0.0.0/20", "10.0.8.0/21")).toBe(true);
    expect(cidrsOverlap("10.0.8.0/21", "10.0.0.0/20")).toBe(true);
    expect(cidrsOverlap("10.0.0.0/20", "10.0.16.0/20")).toBe(false);
  });
});

describe("cidrSubnet (Terraform's cidrsubnet)", () => {
  test.each([
    ["10.0.0.0/16", 4, 0, "10.0.0.0/20"],
    ["10.0.0.0/16", 4, 15, "10.0.240.0/20"],
    ["10.0.0.0/16", 8, 255, "10.0.255.0/24"],
    ["192.168.0.0/24", 4, 3, "192.168.0.48/28"],
    ["128.0.0.0/1", 1, 1, "192.0.0.0/2"],
  ])("%s + %d bits, #%d = %s", (cidr, bits, num, expected) => expect(cidrSubnet(cidr, bits, num)).toBe(expected));

  test("rejects impossible subnets", () => {
    expect(() => cidrSubnet("10.0.0.0/30", 4, 0)).toThrow(/\/34/);
    expect(() => cidrSubnet("10.0.0.0/16", 2, 4)).toThrow(/no subnet number 4/);
  });
});

describe("subnet layout", () => {
  test("private subnets take slot n of 16; public ones share the last slot", () => {
    expect(carvePrivateSubnets("10.0.0.0/16", 3)).toEqual(["10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20"]);
    expect(carvePublicSubnets("10.0.0.0/16", 3)).toEqual(["10.0.240.0/24", "10.0.241.0/24", "10.0.242.0/24"]);
    expect(carvePublicSubnets("10.255.0.0/20", 2)).toEqual(["10.255.15.0/28", "10.255.15.16/28"]);
  });

  test("gateway subnets share the slot before the public one, cut into 8: at least /27 from a /20", () => {
    expect(carveGatewaySubnets("10.0.0.0/16", 3)).toEqual(["10.0.224.0/23", "10.0.226.0/23", "10.0.228.0/23"]);
    expect(carveGatewaySubnets("10.255.0.0/20", 3)).toEqual(["10.255.14.0/27", "10.255.14.32/27", "10.255.14.64/27"]);
    expect(() => carveGatewaySubnets("10.0.0.0/21", 3)).toThrow(/too small.*\/20/);
  });

  test("an AZ's subnets do not move when AZs are added", () => {
    const two = [...carvePrivateSubnets("10.0.0.0/16", 2), ...carvePublicSubnets("10.0.0.0/16", 2), ...carveGatewaySubnets("10.0.0.0/16", 2)];
    const six = [...carvePrivateSubnets("10.0.0.0/16", 6), ...carvePublicSubnets("10.0.0.0/16", 6), ...carveGatewaySubnets("10.0.0.0/16", 6)];
    for (const subnet of two) expect(six).toContain(subnet);
  });

  test("no carved subnet overlaps another, for every AZ count", () => {
    for (let n = 1; n <= 6; n++) {
      const all = [...carvePrivateSubnets("10.0.0.0/20", n), ...carvePublicSubnets("10.0.0.0/20", n), ...carveGatewaySubnets("10.0.0.0/20", n)];
      all.forEach((a, i) => all.slice(i + 1).forEach((b) => expect(cidrsOverlap(a, b)).toBe(false)));
    }
  });

  test("refuses VPCs too small to carve", () => {
    expect(() => carvePublicSubnets("10.0.0.0/21", 2)).toThrow(/too small.*\/20/);
    expect(() => carvePrivateSubnets("10.0.0.0/25", 2)).toThrow(/too small.*\/24/);
    expect(carvePrivateSubnets("10.0.0.0/24", 2)).toEqual(["10.0.0.0/28", "10.0.0.16/28"]);
  });
});

describe("cidrHost and cidrHasIp", () => {
  test("the n-th address of a network (Terraform's cidrhost)", () => {
    expect(cidrHost("10.0.0.0/20", 10)).toBe("10.0.0.10");
    expect(cidrHost("10.0.16.0/20", 4095)).toBe("10.0.31.255");
    expect(() => cidrHost("10.0.0.0/28", 16)).toThrow(/no host number 16/);
  });
  test("membership of a single address", () => {
    expect(cidrHasIp("10.0.0.0/20", "10.0.15.255")).toBe(true);
    expect(cidrHasIp("10.0.0.0/20", "10.0.16.0")).toBe(false);
    expect(cidrHasIp("10.0.0.0/20", "not-an-ip")).toBe(false);
  });
});
