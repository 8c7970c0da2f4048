namespace MassTransit.RedisStreams.Tests.Dashboard;

using System;
using System.Net.Http;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using Xunit;


/// <summary>The web view lists a partitioned type once, with its partitions on its page.</summary>
public class DashboardPartitionTests
{
    [Fact]
    public async Task A_partitioned_type_is_one_row_of_the_overview_and_its_page_lists_its_partitions()
    {
        await using var host = await DashboardHost.Start(partitions: 3);
        host.Failing = false;
        await host.Publish(1, 2, 3, 4, 5, 6, 7, 8, 9);
        await host.Handled.WaitForCount(9).WaitAsync(TimeSpan.FromSeconds(15));

        using var http = new HttpClient();
        var overview = await http.GetStringAsync(host.Url + "/overview/rows");
        Assert.Single(Regex.Matches(overview, "data-stream=\"events:LotSold\""));
        Assert.DoesNotMatch("data-stream=\"events:LotSold:p", overview);
        Assert.Contains("3 partitions", overview);

        var page = await http.GetStringAsync(host.Url + "/stream?name=events:LotSold");
        Assert.Contains("id=\"partitions\"", page);
        Assert.Equal(3, Regex.Count(page, "data-partition=\"\\d-3\""));
        Assert.Matches("id=\"length\">9<", page);
    }
}
