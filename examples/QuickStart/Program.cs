Console.WriteLine("QuickStart");
